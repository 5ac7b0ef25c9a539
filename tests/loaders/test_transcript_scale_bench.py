"""The transcript-scale benchmark runs end to end at a tiny size (--quick); no
timing is asserted, only that it measured both sides at every size."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_transcript_scale_benchmark_runs_quick(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, "benchmarks/transcript_scale.py", "--quick", "--out", str(tmp_path)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Token indices sequence length" not in done.stderr
    result = json.loads((tmp_path / "transcript_scale.quick.json").read_text())
    assert result["quick"] is True and result["machine"]["load_avg_at_start"]
    rows = result["tables"][0]["rows"]
    assert [(r[0], r[1]) for r in rows] == [("srt", 1000), ("srt", 2000), ("whisper-json", 1000), ("whisper-json", 2000)]
    for row in rows:
        assert row[3] > 0 and row[6] > 0 and row[5] > 0 and row[8] > 0  # both sides ran and made windows/nodes
        assert row[5] >= row[1] // 20  # ~10-word cues, 256-token windows: at least one window per 20 cues
