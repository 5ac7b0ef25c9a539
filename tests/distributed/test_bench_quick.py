"""The engine benchmark runs end to end on its quick corpus (one process, Daft's
local runner, a Ray head it starts and stops), and the engines agree."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("daft")
pytest.importorskip("psutil")
pytest.importorskip("ray")

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
    assert set(engines) == {"single", "daft_workers1", "ray_workers1"}
    for r in engines.values():
        assert r["files_ingested"] == 4 and r["chunks_written"] == engines["single"]["chunks_written"] > 0
        assert r["peak_rss_mib"] > 100 and r["pages_per_second_ingest"] > 0 and r["peak_pss_mib"] > 0
    assert engines["single"]["driver_write_seconds"] is None
    ray = engines["ray_workers1"]
    assert ray["runner"] == "ray" and "--ray-address" in ray["command_args"]
    # the cluster's processes are in the sum: its idle daemons, and workers that held the model
    assert 0 < ray["ray_head_idle_rss_mib"] < ray["peak_rss_mib"] and ray["peak_ray_worker_rss_mib"] > 100
    bounds = result["design_note"]["bound_by_engine"]
    assert set(bounds) == {"daft_workers1", "ray_workers1"}  # the driver wrote on both: Milvus Lite
    for name, bound in bounds.items():
        assert 0 < bound["serial_share"] < 1 and bound["max_speedup_any_n"] > bound["max_speedup_vs_this_row"]["2"] > 1
