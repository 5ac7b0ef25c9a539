"""Smaller gaps of the hostile-input audit: every page of a multi-page TIFF is
read, a huge heading cannot fill a chunk's stored text, oversized scans are
OCR'd from a bounded render."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from mmrag.chunking import Chunker
from mmrag.chunking.chunker import MAX_CONTEXT_CHARS, contextualize
from mmrag.loaders import ImageLoader, MarkdownLoader, open_image
from mmrag.loaders.pdf import OCR_MAX_PIXELS, _render_fit
from mmrag.types import MAX_HEADING_CHARS
from tests.hostile_files import ONE_SQUARE, write_sized_pdf


def test_every_page_of_a_multi_page_tiff_is_read(tmp_path: Path) -> None:
    colours = ["red", "green", "blue"]
    pages = [Image.new("RGB", (64, 48), c) for c in colours]
    tiff = tmp_path / "fax.tiff"
    pages[0].save(tiff, save_all=True, append_images=pages[1:])
    elements = list(ImageLoader(ocr=False).load(tiff, str(tiff)))
    assert [e.page for e in elements] == [1, 2, 3]
    assert [e.image.page for e in elements] == [1, 2, 3]
    for element, colour in zip(elements, colours):
        assert open_image(element.image).convert("RGB").getpixel((5, 5)) == Image.new("RGB", (1, 1), colour).getpixel((0, 0))
    single = tmp_path / "one.tiff"
    pages[0].save(single)
    [only] = ImageLoader(ocr=False).load(single, str(single))
    assert only.page is None and only.image.page is None  # a one-page file keeps its chunk ids


def test_a_huge_heading_is_cut_in_the_header_and_the_body_stays_findable(tmp_path: Path, text_embedder) -> None:
    md = tmp_path / "huge.md"
    md.write_text("# " + "heading " * 12_500 + "\n\nThe lighthouse keeper logs every passing ship.\n")  # a 100 KB heading
    chunks = list(Chunker(text_embedder.tokenizer).chunk("doc", MarkdownLoader().load(md, str(md))))
    [chunk] = chunks
    assert len(chunk.context) <= MAX_CONTEXT_CHARS and len(chunk.metadata["heading"]) <= MAX_HEADING_CHARS
    assert chunk.context.endswith("\u2026")
    assert "lighthouse keeper" in chunk.embed_text and len(chunk.embed_text.encode("utf-8")) < 2_000
    long_title = contextualize("t" * 5_000, tuple("s" * 300 for _ in range(20)), 3, None)
    assert len(long_title) == MAX_CONTEXT_CHARS


def test_the_ocr_render_of_a_huge_page_is_bounded(tmp_path: Path) -> None:
    from pypdf import PdfReader

    pdf = write_sized_pdf(tmp_path / "poster.pdf", [(200_000, 200_000, 1)], ONE_SQUARE)
    page = PdfReader(pdf).pages[0]
    scale, note = _render_fit(page, 1, 1.0, OCR_MAX_PIXELS)
    assert (200_000 * scale) ** 2 <= OCR_MAX_PIXELS and note.endswith(f"to stay within {OCR_MAX_PIXELS:,} pixels")


def test_a_page_that_yields_nothing_still_gets_its_note_on_the_report_line(tmp_path: Path, text_embedder) -> None:
    from mmrag.ingest import FileOutcome, prepare
    from mmrag.loaders import PdfLoader
    from mmrag.manifest import FileState

    pdf = write_sized_pdf(tmp_path / "strip.pdf", [(1e9, 10, 1), (200, 200, 1)], ONE_SQUARE)  # page 1: no legible scale
    prepared = prepare(Chunker(text_embedder.tokenizer), FileState.of(pdf, "doc"), [PdfLoader(ocr=False)])
    assert not isinstance(prepared, FileOutcome) and {c.page for c in prepared.chunks} == {2}
    assert any(n.startswith("page 1 is 1,000,000,000 x 10 points: too large to render within 64,000,000 pixels")
               for n in prepared.notes)
