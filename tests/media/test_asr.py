"""ASR plumbing: windows, stitching, batching and timestamps with a tiny random
Whisper (its text is noise; where it sits in time is what is checked), and audio
files ingested through it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import mmrag
from mmrag.asr import Segment, WhisperTranscriber, stitch, windows
from mmrag.asr.base import SAMPLE_RATE, Window
from mmrag.ingest import Status
from mmrag.loaders.media import NO_ASR
from tests.media.media_files import tone, write_audio


def test_windows_overlap_and_cover_the_stream_once() -> None:
    blocks = [np.zeros(SAMPLE_RATE * 7, np.float32)] * 10  # 70 s in 7 s blocks
    got = [(w.offset, w.samples.size / SAMPLE_RATE) for w in windows(blocks, 30.0, 5.0)]
    assert got == [(0.0, 30.0), (25.0, 30.0), (50.0, 20.0)]


def test_stitch_keeps_overlap_speech_once() -> None:
    first, second = Window(0.0, np.zeros(30 * SAMPLE_RATE)), Window(25.0, np.zeros(10 * SAMPLE_RATE))
    a = stitch(first, [Segment(0, 10, "one"), Segment(26, 29, "both")], 5.0, first=True, last=False)
    b = stitch(second, [Segment(1, 4, "both"), Segment(5, 9, "three"), Segment(12, 20, "padding")], 5.0, first=False, last=True)
    assert [(s.start, s.end, s.text) for s in a + b] == [(0.0, 10.0, "one"), (26.0, 29.0, "both"), (30.0, 34.0, "three")]


def test_whisper_segments_lie_on_one_timeline_whatever_the_batch(tiny_whisper: Path) -> None:
    audio = [tone(70.0)]
    one = list(WhisperTranscriber(str(tiny_whisper), language="en", batch_size=1, max_new_tokens=12).transcribe(audio))
    three = list(WhisperTranscriber(str(tiny_whisper), language="en", batch_size=3, max_new_tokens=12).transcribe(audio))
    assert one == three and one  # batching changes nothing
    starts = [s.start for s in one]
    assert starts == sorted(starts) and 0 <= starts[0] and one[-1].end <= 70.0
    assert any(s.start >= 50.0 for s in one)  # the third window's speech is placed after its offset


def test_spec_names_model_and_language(tiny_whisper: Path) -> None:
    spec = WhisperTranscriber(str(tiny_whisper), language="de").spec()
    assert (spec.model_name, spec.language) == (str(tiny_whisper), "de")
    assert "language de" in spec.describe()


@pytest.mark.slow
def test_audio_files_are_transcribed_with_an_asr_model_and_skipped_without(tiny_whisper, tmp_path, text_embedder) -> None:
    wav = write_audio(tmp_path / "memo.wav", tone(40.0))
    flac = write_audio(tmp_path / "memo2.flac", tone(3.0), codec="flac")
    plain = mmrag.Index(str(tmp_path / "a.db"), embedder=text_embedder)
    report = plain.ingest([wav])
    assert report.files[0].status is Status.SKIPPED and report.files[0].reason == NO_ASR
    plain.close()
    asr = WhisperTranscriber(str(tiny_whisper), language="en", max_new_tokens=12)
    index = mmrag.Index(str(tmp_path / "b.db"), embedder=text_embedder, asr_model=asr)
    report = index.ingest([wav, flac])
    assert [f.status for f in report.files] == [Status.INGESTED, Status.INGESTED], report.lines()
    chunks = [h.chunk for h in index.search("memo", k=20, mode="dense")]
    assert chunks and all(c.start is not None and c.end <= 40.0 for c in chunks)
    assert {c.metadata["asr_model"] for c in chunks} == {str(tiny_whisper)}
    index.close()
