"""A dry run says what the run does with media (a video's sidecar subtitles
are read with the video, audio without an ASR model is skipped), and the
--max-file-mb budget looks inside media: what the container's header says
decoding would produce, checked before anything is decoded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import mmrag
from mmrag.ingest import Status
from mmrag.loaders.media import NO_ASR, MediaLoader
from mmrag.loaders.media_io import probe
from tests.media.media_files import tone, write_audio, write_video, write_vtt

pytest.importorskip("av")


def _problems(plan) -> list[tuple[str, str, str | None]]:
    return sorted((f.path, f.status.value, f.reason) for f in plan.problems)


def _not_ingested(report) -> list[tuple[str, str, str | None]]:
    return sorted((f.path, f.status.value, f.reason) for f in report.files if f.status in (Status.SKIPPED, Status.FAILED))


def test_a_dry_run_lists_media_as_the_run_reports_them(tmp_path: Path, text_embedder) -> None:
    data = tmp_path / "data"
    data.mkdir()
    write_video(data / "talk.mp4", [("Harbour map", 2.0)], audio=tone(2.0))
    write_vtt(data / "talk.vtt", [(0.0, 2.0, "The ferry leaves at noon.")])
    write_vtt(data / "podcast.vtt", [(0.0, 2.0, "Bees dance to say where the flowers are.")])  # no video: its own transcript
    write_audio(data / "memo.wav", tone(1.0))
    (data / "note.txt").write_text("Buy rope for the dinghy.")
    index = mmrag.Index(str(tmp_path / "s.db"), embedder=text_embedder)
    plan = index.ingest([data], dry_run=True)
    report = index.ingest([data])
    ingested = sorted(f.path for f in report.files if f.status is Status.INGESTED)
    assert sorted(plan.add) == ingested == sorted(str(data / n) for n in ("note.txt", "podcast.vtt", "talk.mp4"))
    assert _problems(plan) == _not_ingested(report) == [
        (str(data / "memo.wav"), "skipped", NO_ASR),
        (str(data / "talk.vtt"), "skipped", "subtitles of talk.mp4: read as that video's speech"),
    ]
    again = index.ingest([data], dry_run=True)
    assert (again.add, again.replace) == ([], []) and _problems(again) == _problems(plan)
    index.close()


def test_the_budget_refuses_a_video_by_its_decoded_frames_before_decoding(tmp_path: Path, text_embedder) -> None:
    """Both videos are a few KB on disk; the 720p one decodes to frames over 3 MB."""
    data = tmp_path / "data"
    data.mkdir()
    small = write_video(data / "small.mp4", [("Tide table", 1.0)])
    big = write_video(data / "big.mp4", [("Tide table", 1.0)], size=(1280, 720))
    assert big.stat().st_size < 3 * 2**20
    estimate = MediaLoader().decoded_size(big)
    assert estimate is not None and estimate.bytes > 3 * 2**20 > MediaLoader().decoded_size(small).bytes
    index = mmrag.Index(str(tmp_path / "s.db"), embedder=text_embedder, max_file_mb=3)
    plan = index.ingest([data], dry_run=True)
    report = index.ingest([data])
    (refused,) = _not_ingested(report)
    assert _problems(plan) == [refused]
    assert refused[:2] == (str(big), "failed")
    assert refused[2].startswith(f"file too large: it would decode to {estimate.bytes / 2**20:,.1f} MB (")
    assert "frames of 1280x720 in flight" in refused[2] and "the limit is 3 MB per file" in refused[2]
    assert plan.add == [str(small)] and [f.path for f in report.files if f.status is Status.INGESTED] == [str(small)]
    index.close()


def test_the_budget_refuses_audio_by_its_decoded_samples(tiny_whisper: Path, tmp_path: Path) -> None:
    """20 s of audio is 1.2 MB of 16 kHz float32 samples (a 40 KB FLAC on disk); a
    budget of 1 MB refuses it, through the CLI, in the dry run and in the run."""
    from typer.testing import CliRunner

    from mmrag.cli import app

    data = tmp_path / "data"
    data.mkdir()
    long = write_audio(data / "long.flac", tone(20.0), codec="flac")
    (data / "note.txt").write_text("Buy rope for the dinghy.")
    assert long.stat().st_size < 2**20 and probe(long).duration == pytest.approx(20.0, abs=0.1)
    args = ["ingest", str(data), "--store", str(tmp_path / "s.db"), "--asr-model", str(tiny_whisper),
            "--max-file-mb", "1", "--json"]
    runner = CliRunner()
    planned = runner.invoke(app, [*args, "--dry-run"])
    assert planned.exit_code == 0, planned.output
    plan = json.loads(planned.stdout)
    done = runner.invoke(app, args)
    files = {Path(f["path"]).name: f for f in json.loads(done.stdout)["files"]}
    assert done.exit_code == 1 and files["note.txt"]["status"] == "ingested" and plan["add"] == [str(data / "note.txt")]
    reason = files["long.flac"]["reason"]
    assert plan["problems"] == [{"path": str(long), "status": "failed", "reason": reason}]
    assert reason.startswith("file too large: it would decode to 1.2 MB (0:00:20 of audio at 16 kHz)")
