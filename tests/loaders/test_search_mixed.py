"""Search-level checks on a mixed folder: a query lands on the right slide, page
and moment (real MiniLM, real Milvus Lite file, files written by real libraries)."""

from __future__ import annotations

import pytest

import mmrag
from mmrag.chunking import WindowOptions
from mmrag.ingest import Status
from tests.mixed_files import needs_ocr, write_deck, write_scanned_pdf, write_text_pdf

pytestmark = pytest.mark.slow

SRT = """1
00:00:00,000 --> 00:00:04,000
Welcome to the pottery studio.

2
00:00:04,000 --> 00:00:08,000
Today the kiln climbs to twelve hundred degrees, and at that heat the

3
00:00:08,000 --> 00:00:12,000
glaze melts into a thin layer of glass on every pot.

4
00:00:12,000 --> 00:00:16,000
Let the kiln cool for a whole day before you open it.
"""


@pytest.fixture(scope="module")
def index(tmp_path_factory, text_embedder):
    folder = tmp_path_factory.mktemp("mixed")
    write_deck(folder)
    write_scanned_pdf(folder / "scan.pdf", ["Invoice 4471 for copper wire", "Due within thirty days"],
                      ["Cover letter from the supplier about our order."])
    write_text_pdf(folder / "weather.pdf", ["Storms bring heavy rain to the coast in autumn.", "Snow closes mountain passes."])
    (folder / "pottery.srt").write_text(SRT, encoding="utf-8")
    (folder / "garden.md").write_text("# Garden\n\nWater tomatoes deeply twice a week in summer.\n")
    # small windows, so the transcript is cut into several and the test shows the right one wins
    window = WindowOptions(max_tokens=32, overlap=8)
    idx = mmrag.Index(str(tmp_path_factory.mktemp("db") / "store.db"), embedder=text_embedder, window=window)
    report = idx.ingest([folder])
    assert report.ok and report.count(Status.INGESTED) == 5, report.lines()
    yield idx
    idx.close()


def test_speaker_notes_query_returns_that_slide(index) -> None:
    top = index.search("why were shipments late in March? a fire at the warehouse", k=3)[0].chunk
    assert top.source.endswith("review.pptx") and top.slide == 1


@needs_ocr
def test_scanned_page_query_returns_that_page(index) -> None:
    hits = index.search("copper wire invoice", k=3)
    assert hits[0].chunk.source.endswith("scan.pdf") and hits[0].chunk.page == 2
    assert index.search("copper wire invoice", k=3, mode="bm25")[0].chunk.page == 2  # OCR text is BM25-able


def test_query_spanning_two_cues_returns_a_window_covering_both(index) -> None:
    top = index.search("kiln at twelve hundred degrees makes the glaze melt into glass", k=3)[0].chunk
    assert top.source.endswith("pottery.srt")
    assert top.start is not None and top.end is not None
    assert top.start <= 4.0 and top.end >= 12.0  # cues 2 and 3, where the sentence is split
    assert (top.start, top.end) != (0.0, 16.0), "the transcript must be in several windows for this to mean anything"
    assert "twelve hundred degrees, and at that heat the glaze melts" in top.text
