"""benchmarks/cli_latency.py runs end to end at --quick size and writes its tables."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("uvicorn", reason="the 'agents' extra is not installed")
pytest.importorskip("mcp", reason="the 'agents' extra is not installed")

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow  # two checkouts ingest, cold CLI runs load MiniLM, two servers start
def test_quick_benchmark_writes_cold_and_warm_tables(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "benchmarks/cli_latency.py", "--quick", "--out", str(tmp_path)], cwd=ROOT,
                   check=True, capture_output=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=1500)
    result = json.loads((tmp_path / "cli_latency.quick.json").read_text())
    cold, warm = result["tables"]
    assert [row[0] for row in cold["rows"]] == ["bm25", "hybrid"]
    assert all(row[2] > 0 and row[4] > 0 and row[6] > 0 for row in cold["rows"])
    paths = {(row[0], row[1]) for row in warm["rows"]}
    for mode in ("bm25", "hybrid"):
        assert {(mode, p) for p in ("bare Index.search", "HTTP /search", "MCP search tool", "cold `search --server` process",
                                    "cold `search --server` process (MCP)")} <= paths
    assert all(row[3] > 0 for row in warm["rows"])
    assert "load average" in result["notes"][0]
    worktrees = subprocess.run(["git", "-C", str(ROOT), "worktree", "list"], capture_output=True, text=True).stdout
    assert "cli_latency_" not in worktrees  # the baseline worktree is removed again
