"""benchmarks/media_throughput.py runs end to end on its quick sizes and its figures add up."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.mixed_files import needs_ocr

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@needs_ocr
def test_media_throughput_quick(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "media_throughput.py"), "--quick", "--out", str(tmp_path),
         "--audio-seconds", "31"],
        capture_output=True, text=True, env=env, timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads((tmp_path / "media_throughput.quick.json").read_text())
    video, asr = result["raw"]["video"], result["raw"]["asr"]
    assert video["decode"]["frames"] == 200  # 20 s at 10 fps, every frame decoded
    assert video["mmrag"]["keyframes"] == video["mmrag"]["with_text"] == 2  # the slide, then its second bullet
    assert video["mmrag"]["peak_rss_mib"] > video["decode"]["peak_rss_mib"] > 0
    assert asr["audio_seconds"] == 31 and asr["ours_s"] > 0 and asr["pipeline_s"] > 0
    assert [len(t["rows"]) for t in result["tables"]] == [2, 2]
