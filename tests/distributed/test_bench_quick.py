"""The engine benchmark runs end to end on its quick corpus and both engines agree."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("daft")
pytest.importorskip("psutil")

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_ingest_engines_quick(tmp_path):
    out = tmp_path / "engines.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "ingest_engines.py"), "--quick", "--out", str(out)],
        capture_output=True, text=True, env=env, timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result["corpus"]["pages"] == 8
    engines = {r["engine"]: r for r in result["results"]}
    assert set(engines) == {"single", "daft_workers1"}
    for r in engines.values():
        assert r["files_ingested"] == 4 and r["chunks_written"] == engines["single"]["chunks_written"] > 0
        assert r["peak_rss_mib"] > 100 and r["pages_per_second_ingest"] > 0
