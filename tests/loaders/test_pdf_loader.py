from __future__ import annotations

from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter

from mmrag.errors import LoaderError
from mmrag.loaders import PdfLoader, find_loader, open_image
from mmrag.loaders import pdf as pdf_module
from mmrag.loaders.ocr import OCR_SKIPPED
from mmrag.types import ImageKind, ImageRef, Modality
from tests.mixed_files import needs_ocr, write_scanned_pdf, write_text_pdf


def test_pages_give_text_page_renders_and_embedded_images(tmp_path: Path) -> None:
    path = write_text_pdf(tmp_path / "r.pdf", ["Alpha page about tides and the moon.", "Beta page about winds and pressure."], image_on_page=2)
    elements = list(PdfLoader().load(path, str(path)))
    kinds = [(e.modality, e.page) for e in elements]
    assert kinds == [
        (Modality.TEXT, 1),
        (Modality.PAGE_IMAGE, 1),
        (Modality.TEXT, 2),
        (Modality.PAGE_IMAGE, 2),
        (Modality.IMAGE, 2),
    ]
    assert elements[0].text == "Alpha page about tides and the moon."
    assert elements[0].metadata["document_title"] == "Test report"
    assert elements[1].image == ImageRef(str(path), ImageKind.PAGE_RENDER, page=1)
    assert elements[4].image == ImageRef(str(path), ImageKind.EMBEDDED, page=2, index=0)
    # the references give the pictures back without the loader
    assert open_image(elements[4].image).size == (64, 48)
    assert open_image(elements[4].image).getpixel((10, 10)) == (200, 30, 30)
    assert open_image(elements[1].image, render_scale=1.0).size == (400, 300)
    assert open_image(elements[1].image).size == (800, 600)


def test_rendering_can_be_turned_off(tmp_path: Path) -> None:
    path = write_text_pdf(tmp_path / "r.pdf", ["Alpha page about tides and the moon.", "Beta page about winds and pressure."])
    elements = list(PdfLoader(render_pages=False).load(path, str(path)))
    assert [e.modality for e in elements] == [Modality.TEXT, Modality.TEXT]
    assert [e.page for e in elements] == [1, 2]


@needs_ocr
@pytest.mark.slow
def test_scanned_page_is_ocrd_into_searchable_text(tmp_path: Path) -> None:
    path = write_scanned_pdf(tmp_path / "scan.pdf", ["Invoice 4471 for copper wire"], ["A page with a real text layer here."])
    elements = list(PdfLoader().load(path, str(path)))
    ocr = [e for e in elements if e.modality is Modality.TEXT and e.metadata.get("ocr")]
    assert len(ocr) == 1 and ocr[0].page == 2
    assert "Invoice 4471 for copper wire" in ocr[0].text
    # the text-layer page is not OCR'd, and the scan is not also listed as an embedded image
    assert not any(e.metadata.get("ocr") for e in elements if e.page == 1)
    assert not any(e.modality is Modality.IMAGE for e in elements)


def test_without_ocr_a_scan_is_kept_as_a_page_image_and_marked(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(pdf_module, "ocr_available", lambda: False)
    path = write_scanned_pdf(tmp_path / "scan.pdf", ["Invoice 4471"])
    elements = list(PdfLoader(render_pages=False).load(path, str(path)))
    assert [(e.modality, e.page) for e in elements] == [(Modality.PAGE_IMAGE, 1)]
    assert elements[0].metadata[OCR_SKIPPED] == "page"


def test_encrypted_pdf_is_a_clear_error(tmp_path: Path) -> None:
    plain = write_text_pdf(tmp_path / "plain.pdf", ["Secret plans."])
    writer = PdfWriter(clone_from=PdfReader(plain))
    writer.encrypt(user_password="hunter2", algorithm="AES-128")
    locked = tmp_path / "locked.pdf"
    with locked.open("wb") as fh:
        writer.write(fh)
    with pytest.raises(LoaderError, match="password") as info:
        list(PdfLoader().load(locked, str(locked)))
    assert info.value.path == str(locked)


def test_corrupt_pdf_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"%PDF-1.7\n" + b"\x00garbage" * 50)
    with pytest.raises(LoaderError, match="corrupt PDF"):
        loader, _ = find_loader(bad)
        list(loader.load(bad, str(bad)))


def test_page_that_cannot_be_rendered_is_a_clear_error(tmp_path: Path) -> None:
    path = write_text_pdf(tmp_path / "r.pdf", ["Only page, with enough text to count as text."])
    with pytest.raises(LoaderError, match="cannot render page 3: the PDF has 1 pages"):
        open_image(ImageRef(str(path), ImageKind.PAGE_RENDER, page=3))
    path.write_bytes(path.read_bytes()[:200])  # the file was cut short after ingestion
    with pytest.raises(LoaderError, match="r.pdf"):
        open_image(ImageRef(str(path), ImageKind.PAGE_RENDER, page=1))


def test_outline_gives_pages_their_section_titles(tmp_path: Path) -> None:
    from reportlab.pdfgen import canvas

    path = tmp_path / "study.pdf"
    c = canvas.Canvas(str(path), pagesize=(400, 300), invariant=1)
    c.setTitle("Field study")
    for i, (title, level) in enumerate([("Intro", 0), ("Methods", 0), ("Sampling", 1), ("Results", 0)]):
        c.drawString(20, 250, f"Page {i + 1} holds the part of the study called {title}.")
        c.bookmarkPage(f"p{i}")
        c.addOutlineEntry(title, f"p{i}", level=level)
        c.showPage()
    c.save()
    texts = [e for e in PdfLoader().load(path, str(path)) if e.modality is Modality.TEXT]
    assert [e.title_path for e in texts] == [("Intro",), ("Methods",), ("Methods", "Sampling"), ("Results",)]
    pages = [e for e in PdfLoader().load(path, str(path)) if e.page == 3]
    assert all(e.title_path == ("Methods", "Sampling") for e in pages)


def test_blank_page_is_not_taken_for_a_scan(tmp_path: Path, monkeypatch) -> None:
    from reportlab.pdfgen import canvas

    monkeypatch.setattr(pdf_module, "ocr_available", lambda: False)  # a scan would be marked as not OCR'd
    path = tmp_path / "blank.pdf"
    c = canvas.Canvas(str(path), pagesize=(400, 300), invariant=1)
    c.drawString(20, 250, "A first page with plenty of text on it.")
    c.showPage()
    c.showPage()  # an empty page
    c.save()
    elements = list(PdfLoader(render_pages=False).load(path, str(path)))
    assert [(e.modality, e.page) for e in elements] == [(Modality.TEXT, 1)]


def test_parser_warnings_go_to_the_files_note_not_the_console(tmp_path: Path, text_embedder, capfd) -> None:
    import re

    from mmrag.chunking import Chunker
    from mmrag.ingest import Prepared, prepare
    from mmrag.manifest import FileState

    good = write_text_pdf(tmp_path / "good.pdf", ["Copper wire shipped to the north depot on Tuesday."])
    broken = tmp_path / "broken.pdf"  # a wrong startxref offset: pypdf recovers, and warns
    broken.write_bytes(re.sub(rb"startxref\s+(\d+)", lambda m: b"startxref\n" + str(int(m[1]) + 7).encode(), good.read_bytes()))
    chunker = Chunker(text_embedder.tokenizer)
    prepared = prepare(chunker, FileState.of(broken, "d1"))
    assert isinstance(prepared, Prepared) and "Copper wire" in prepared.chunks[0].text
    [note] = [n for n in prepared.notes if "parser warned" in n]
    assert "startxref" in note
    clean = prepare(chunker, FileState.of(good, "d2"))
    assert not any("parser warned" in n for n in clean.notes)
    out, err = capfd.readouterr()
    assert "startxref" not in out + err


def test_render_scale_fits_the_pixel_cap_or_gives_up() -> None:
    from mmrag.loaders.decoding import MAX_IMAGE_PIXELS, fit_render_scale

    assert fit_render_scale(595, 842, 2.0) == 2.0  # A4 at 2x is well under the cap
    scale = fit_render_scale(200_000, 200_000, 2.0)
    assert scale is not None and scale < 0.05
    assert 0.99 * MAX_IMAGE_PIXELS < (200_000 * scale) ** 2 <= MAX_IMAGE_PIXELS
    assert fit_render_scale(1e8, 1, 2.0) is None  # a strip: under one pixel high once it fits
    assert fit_render_scale(0, 842, 2.0) is None and fit_render_scale(float("nan"), 1, 2.0) is None


def test_huge_pages_render_within_the_cap_or_are_skipped_with_a_note(tmp_path: Path) -> None:
    """A 200,000-point MediaBox renders smaller; a /UserUnit page stays small (pdfium
    renders it in points); a page no scale fits has no page image and says why."""
    from mmrag.loaders.decoding import MAX_IMAGE_PIXELS
    from tests.hostile_files import write_sized_pdf

    path = write_sized_pdf(tmp_path / "huge.pdf", [(200_000, 200_000, 1), (600, 800, 1000), (1e8, 1, 1), (600, 800, 1)])
    elements = list(PdfLoader(ocr=False).load(path, str(path)))
    pages = [e.page for e in elements if e.modality is Modality.PAGE_IMAGE]
    assert pages == [1, 2, 4]
    big = next(e for e in elements if e.page == 1)
    assert "page 1 rendered at 0.04x instead of 2x to stay within 64,000,000 pixels" in big.metadata["decode_note"]
    rendered = open_image(big.image)
    assert rendered.width * rendered.height <= MAX_IMAGE_PIXELS and rendered.width > 7000
    assert open_image(ImageRef(str(path), ImageKind.PAGE_RENDER, page=2)).size == (1200, 1600)
    assert "decode_note" not in next(e for e in elements if e.page == 2).metadata
    assert not [e for e in elements if e.page == 3]  # no scale fits: nothing rendered, nothing allocated


@needs_ocr
def test_a_huge_scan_is_ocrd_from_a_render_made_at_the_capped_scale_with_a_note(tmp_path: Path, monkeypatch) -> None:
    """A scanned page of 40,000 x 15,000 points: OCR reads a render made directly
    at the scale that fits its cap (not a 64 MP page image shrunk afterwards), the
    text is still found, and the file's report line says the scale was lowered."""
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    from mmrag.loaders.library_notes import capture
    from tests.mixed_files import text_picture

    path = tmp_path / "poster.pdf"
    c = canvas.Canvas(str(path), pagesize=(40_000, 15_000), invariant=1)
    c.drawImage(ImageReader(text_picture(["Invoice 4471 for copper wire"], (800, 300), 34)), 0, 0, 40_000, 15_000)
    c.showPage()
    c.save()
    sizes: list[tuple[int, int]] = []
    real_render = pdf_module.render_open_page

    def recording_render(*args, **kwargs):
        image = real_render(*args, **kwargs)
        sizes.append(image.size)
        return image

    monkeypatch.setattr(pdf_module, "render_open_page", recording_render)
    cap = 400_000  # small, so the test's OCR pass is quick; the default is OCR_MAX_PIXELS
    with capture() as notes:
        elements = list(PdfLoader(render_pages=False, ocr_max_pixels=cap).load(path, str(path)))
    [(width, height)] = sizes  # one render, for OCR
    assert width * height <= cap and width * height > 0.95 * cap
    assert "page 1 OCR'd from a render at 0.0258x instead of 1x to stay within 400,000 pixels" in notes.loader_notes
    [ocr] = [e for e in elements if e.metadata.get("ocr")]
    assert "Invoice 4471" in ocr.text
