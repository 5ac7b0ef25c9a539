"""The query latency benchmark runs end to end at --quick size and writes its JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pymilvus")

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_quick_benchmark_writes_every_figure(tmp_path):
    out = tmp_path / "ql.json"
    subprocess.run([sys.executable, "benchmarks/query_latency.py", "--quick", "--out", str(out)], cwd=ROOT,
                   check=True, capture_output=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300)
    result = json.loads(out.read_text())
    hybrid = result["hybrid_top10"]
    assert hybrid["ours_p50_ms"] > 0 and hybrid["raw_pymilvus_p50_ms"] > 0 and hybrid["overhead_p50_ratio"] > 0
    assert [r["tokens_per_row"] for r in result["late_interaction_top100_rerank"]] == [1, 32]
    rows = {(r["pool_factor"], r["dtype"]): r["bytes_per_page"] for r in result["storage_per_page"]["rows"]}
    assert rows[(1, "float32")] == 1030 * 128 * 4 and rows[(2, "float16")] == 515 * 128 * 2
    assert rows[(4, "float32")] == 258 * 128 * 4
