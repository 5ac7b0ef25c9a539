"""The demo's lecture video (examples/data/volcano_lecture.mp4 + .vtt, written by
examples/lecture_video.py) answers the demo's two lecture queries at the right
moment: the slide query on its keyframe's scene, the speech query on the
transcript window that starts with its cue, linked to the slide on screen."""

from __future__ import annotations

from pathlib import Path

import pytest

import mmrag
from examples.demo import QUERIES, WINDOW
from examples.lecture_video import SLIDE_QUERY, SLIDES, SPEECH_QUERY, cue_span, slide_span
from tests.mixed_files import needs_ocr

VIDEO = Path(__file__).resolve().parents[2] / "examples" / "data" / "volcano_lecture.mp4"

pytestmark = [pytest.mark.slow, needs_ocr]


def test_lecture_queries_land_on_their_moments(tmp_path: Path, text_embedder) -> None:
    assert {SLIDE_QUERY[0], SPEECH_QUERY[0]} <= set(QUERIES)
    index = mmrag.Index(str(tmp_path / "demo.db"), embedder=text_embedder, window=WINDOW)
    try:
        report = index.ingest([VIDEO])
        assert report.ok and report.files[0].status is mmrag.ingest.Status.INGESTED, report.lines()

        query, n = SLIDE_QUERY
        slide = index.search(query, k=1)[0].chunk
        assert slide.source.endswith(VIDEO.name) and slide.modality is mmrag.Modality.IMAGE
        assert (slide.start, slide.end) == slide_span(n)
        assert SLIDES[n].split("\n")[1] in slide.text  # found by its OCR'd words

        query, n = SPEECH_QUERY
        spoken = index.search(query, k=1)[0].chunk
        assert spoken.modality is mmrag.Modality.TEXT
        assert spoken.start == cue_span(n)[0] and cue_span(n)[1] <= spoken.end <= spoken.start + WINDOW.max_seconds
        frames = index.store.get(spoken.metadata["image_ids"])
        on_screen = [f for f in frames if f.start <= cue_span(n)[0] < f.end]
        assert [f.text.split("\n")[0] for f in on_screen] == [SLIDES[n // 2].split("\n")[0]]
    finally:
        index.close()
