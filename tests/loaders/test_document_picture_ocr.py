"""Text inside the pictures of Word, web, e-book and OpenDocument files is read by
the real rapidocr through the one path slides use (``picture_ocr``): the word is
found on the picture's element under its heading, a tiny or one-colour picture
is not read, a repeated picture is read once, and a picture of the text beside
it adds nothing. Every file is written by the library a user's tool would use."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest
from PIL import Image

from mmrag.loaders import DocxLoader, EpubLoader, HtmlLoader, OdfLoader
from mmrag.loaders import ocr as ocr_module
from mmrag.loaders.image_refs import open_image
from mmrag.loaders.ocr_cache import OcrCache, use_cache
from mmrag.types import Element, Modality
from tests.loaders.office_files import write_odp
from tests.mixed_files import needs_ocr, png_bytes, text_picture

pytestmark = [needs_ocr, pytest.mark.slow]  # real OCR: loads the ONNX models

SIGN = ["Warehouse fire in March"]  # what the picture says, in no text of the document
SIGN_SIZE = (640, 120)
LOGO = ["Northwind Traders"]
LOGO_SIZE = (420, 90)


def _sign() -> bytes:
    return png_bytes(text_picture(SIGN, SIGN_SIZE))


def _logo() -> bytes:
    return png_bytes(text_picture(LOGO, LOGO_SIZE))


def _flat() -> bytes:
    return png_bytes(Image.new("RGB", (300, 200), (20, 60, 140)))  # one colour: a banner, no text


def _icon() -> bytes:
    return png_bytes(Image.new("RGB", (12, 12), "red"))


@pytest.fixture
def engine_calls(monkeypatch) -> list[tuple[int, int]]:
    """The size of each picture the real engine was run on."""
    calls: list[tuple[int, int]] = []
    real_read = ocr_module._read
    monkeypatch.setattr(ocr_module, "_read", lambda img: calls.append(img.size) or real_read(img))
    return calls


def _pictures(elements: list[Element]) -> list[Element]:
    return [e for e in elements if e.modality is Modality.IMAGE]


def _check(pictures: list[Element], heading: tuple[str, ...], calls: list[tuple[int, int]], cache: OcrCache) -> None:
    """The sign's words on its element under ``heading``; the logo twice from one
    engine call; the flat and tiny pictures not read."""
    sign = [p for p in pictures if "Warehouse fire" in p.text]
    assert len(sign) == 1 and sign[0].title_path == heading
    assert "Warehouse fire in March" in sign[0].metadata["ocr_text"]
    logos = [p for p in pictures if "Northwind" in p.metadata.get("ocr_text", "")]
    assert len(logos) == 2 and calls.count(LOGO_SIZE) == 1
    assert cache.stats.memory_hits >= 1
    skips = sorted(p.metadata.get("ocr_skip", "") for p in pictures if p.metadata.get("ocr_skip"))
    assert skips == ["flat", "too small"]
    assert SIGN_SIZE in calls and (300, 200) not in calls and (12, 12) not in calls


def _write_docx(path: Path) -> Path:
    import docx
    from docx.shared import Inches

    doc = docx.Document()
    doc.add_heading("Site report", 1)
    doc.add_paragraph("The north store was inspected on Monday.")
    doc.add_picture(io.BytesIO(_logo()), width=Inches(2))
    doc.add_heading("Incidents", 2)
    doc.add_paragraph("One incident was logged this quarter.")
    doc.add_picture(io.BytesIO(_sign()), width=Inches(4))
    doc.add_picture(io.BytesIO(_flat()), width=Inches(2))
    doc.add_picture(io.BytesIO(_icon()), width=Inches(0.2))
    doc.add_heading("Staff", 2)
    doc.add_paragraph("Two new staff joined.")
    doc.add_picture(io.BytesIO(_logo()), width=Inches(2))
    doc.save(path)
    return path


def test_docx_pictures_are_read_once_under_their_heading(tmp_path: Path, engine_calls) -> None:
    path = _write_docx(tmp_path / "report.docx")
    with use_cache(OcrCache()) as cache:
        elements = list(DocxLoader().load(path, str(path)))
    _check(_pictures(elements), ("Site report", "Incidents"), engine_calls, cache)
    assert not _pictures(list(DocxLoader(ocr=False).load(path, str(path))))[1].metadata.get("ocr_text")


def test_html_local_and_inline_pictures_are_read_and_nothing_is_fetched(tmp_path: Path, engine_calls) -> None:
    site = tmp_path / "site"
    (site / "img").mkdir(parents=True)
    (site / "img" / "logo.png").write_bytes(_logo())
    (site / "img" / "flat.png").write_bytes(_flat())
    (tmp_path / "outside.png").write_bytes(_sign())  # outside the page's folder: never read
    inline = "data:image/png;base64," + base64.b64encode(_sign()).decode()
    icon = "data:image/png;base64," + base64.b64encode(_icon()).decode()
    page = site / "page.html"
    page.write_text(f"""<!doctype html><html><head><title>Site report</title></head><body><main>
        <h1>Site report</h1><p>The north store was inspected on Monday.</p><img src="img/logo.png" alt="">
        <h2>Incidents</h2><p>One incident was logged this quarter.</p>
        <img src="{inline}" alt="Sign at the gate"><img src="img/flat.png"><img src="{icon}">
        <img src="../outside.png" alt="escaping"><img src="http://example.invalid/remote.png" alt="remote">
        <h2>Staff</h2><p>Two new staff joined.</p><img src="./img/logo.png">
        </main></body></html>""", encoding="utf-8")
    with use_cache(OcrCache()) as cache:
        elements = list(HtmlLoader().load(page, str(page)))
    pictures = _pictures(elements)
    _check(pictures, ("Site report", "Incidents"), engine_calls, cache)
    assert all("escaping" not in p.text and "remote" not in p.text for p in pictures)  # alt text only, as text
    sign = next(p for p in pictures if "Warehouse" in p.text)
    assert sign.text.startswith("Sign at the gate") and sign.image.index == 0
    assert open_image(sign.image).size == SIGN_SIZE  # the inline picture is found again from its reference


def test_epub_pictures_are_read_in_their_chapter(tmp_path: Path, engine_calls) -> None:
    from ebooklib import epub

    book = epub.EpubBook()
    book.set_identifier("site-report-1")
    book.set_title("Site report")
    book.set_language("en")
    one = epub.EpubHtml(title="Inspection", file_name="text/one.xhtml", lang="en")
    one.content = "<h1>Inspection</h1><p>The north store was inspected on Monday.</p><img src='../img/logo.png' alt=''/>"
    two = epub.EpubHtml(title="Incidents", file_name="text/two.xhtml", lang="en")
    two.content = ("<h1>Incidents</h1><p>One incident was logged this quarter.</p><img src='../img/sign.png' alt=''/>"
                   "<img src='../img/flat.png' alt=''/><img src='../img/icon.png' alt=''/>")
    three = epub.EpubHtml(title="Staff", file_name="text/three.xhtml", lang="en")
    three.content = "<h1>Staff</h1><p>Two new staff joined.</p><img src='../img/logo.png' alt=''/>"
    items = [one, two, three]
    for name, data in (("logo", _logo()), ("sign", _sign()), ("flat", _flat()), ("icon", _icon())):
        items.append(epub.EpubItem(uid=name, file_name=f"img/{name}.png", media_type="image/png", content=data))
    for item in items:
        book.add_item(item)
    book.toc = (one, two, three)
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = [one, two, three]
    path = tmp_path / "report.epub"
    epub.write_epub(str(path), book)
    with use_cache(OcrCache()) as cache:
        elements = list(EpubLoader().load(path, str(path)))
    _check(_pictures(elements), ("Incidents",), engine_calls, cache)


def test_odt_pictures_are_images_read_under_their_heading(tmp_path: Path, engine_calls) -> None:
    pytest.importorskip("odf", reason="odfpy is not installed")
    from odf.draw import Frame
    from odf.draw import Image as DrawImage
    from odf.opendocument import OpenDocumentText
    from odf.svg import Desc
    from odf.text import H, P

    doc = OpenDocumentText()

    def picture(data: bytes, name: str, alt: str = "") -> P:
        href = doc.addPicture(f"Pictures/{name}.png", "image/png", data)
        frame = Frame(width="6cm", height="1cm", anchortype="as-char", name=name)
        frame.addElement(DrawImage(href=href))
        if alt:
            frame.addElement(Desc(text=alt))
        para = P()
        para.addElement(frame)
        return para

    for node in (
        H(outlinelevel=1, text="Site report"), P(text="The north store was inspected on Monday."), picture(_logo(), "logo"),
        H(outlinelevel=2, text="Incidents"), P(text="One incident was logged this quarter."),
        picture(_sign(), "sign", "Sign at the gate"), picture(_flat(), "flat"), picture(_icon(), "icon"),
        H(outlinelevel=2, text="Staff"), P(text="Two new staff joined."), picture(_logo(), "logo2"),
    ):
        doc.text.addElement(node)
    path = tmp_path / "report.odt"
    doc.save(str(path))
    with use_cache(OcrCache()) as cache:
        elements = list(OdfLoader().load(path, str(path)))
    pictures = _pictures(elements)
    _check(pictures, ("Site report", "Incidents"), engine_calls, cache)
    sign = next(p for p in pictures if "Warehouse" in p.text)
    assert sign.metadata["alt_text"] == "Sign at the gate"
    assert open_image(sign.image).size == SIGN_SIZE


def test_a_picture_of_the_text_beside_it_adds_nothing(tmp_path: Path, engine_calls) -> None:
    import docx
    from docx.shared import Inches

    doc = docx.Document()
    doc.add_heading("Warehouse fire in March", 1)  # the picture repeats its heading
    doc.add_picture(io.BytesIO(_sign()), width=Inches(4))
    path = tmp_path / "title.docx"
    doc.save(path)
    [picture] = _pictures(list(DocxLoader().load(path, str(path))))
    assert engine_calls == [SIGN_SIZE] and picture.metadata["ocr_text"] == "" and picture.text == ""


def test_picture_text_is_searchable_and_cites_its_heading(tmp_path: Path, text_embedder) -> None:
    import mmrag

    docs = tmp_path / "docs"
    docs.mkdir()
    _write_docx(docs / "report.docx")
    index = mmrag.Index(str(tmp_path / "store.db"), embedder=text_embedder)
    try:
        assert index.ingest([docs]).ok
        hits = index.search("warehouse fire", k=3, mode="bm25")
        assert hits and hits[0].chunk.modality is Modality.IMAGE
        top = hits[0].chunk
        assert top.heading == "Site report > Incidents" and "Warehouse fire in March" in top.text
        assert "One incident was logged this quarter." in top.metadata["nearby_text"]  # linked to the text around it
        [text_chunk] = index.store.get(top.metadata["text_ids"])
        assert top.id in text_chunk.metadata["image_ids"] and "One incident" in text_chunk.text
    finally:
        index.close()


def test_pictures_in_table_cells_and_on_odp_slides_are_read_against_the_text_around_them(tmp_path: Path) -> None:
    """A cell's picture is read against its row (a picture of the row's own words
    adds nothing); an ODP slide's against the slide's text, as a PPTX slide's is."""
    import docx
    from docx.shared import Inches

    doc = docx.Document()
    doc.add_heading("Site report", 1)
    table = doc.add_table(rows=3, cols=2)
    for r, (label, picture) in enumerate([("Item", None), ("Gate sign", _sign()), ("Northwind Traders", _logo())]):
        table.cell(r, 0).text = label
        if picture is None:
            table.cell(r, 1).text = "Photo"
        else:
            table.cell(r, 1).paragraphs[0].add_run().add_picture(io.BytesIO(picture), width=Inches(3))
    path = tmp_path / "cells.docx"
    doc.save(path)
    sign, logo = _pictures(list(DocxLoader().load(path, str(path))))
    assert "Warehouse fire in March" in sign.metadata["ocr_text"] and sign.metadata["table_row"] == 2
    assert sign.title_path == ("Site report",) and "Item: Gate sign" in sign.text
    assert logo.metadata["ocr_text"] == "" and logo.metadata["table_row"] == 3  # its row already says it

    pytest.importorskip("odf", reason="odfpy is not installed")
    odp = write_odp(tmp_path / "deck.odp", [("Incidents", _sign(), ""), ("Northwind Traders", _logo(), "")])
    on_slides = _pictures(list(OdfLoader().load(odp, str(odp))))
    assert [(p.slide, p.title_path) for p in on_slides] == [(1, ("Incidents",)), (2, ("Northwind Traders",))]
    assert "Warehouse fire in March" in on_slides[0].metadata["ocr_text"]
    assert on_slides[1].metadata["ocr_text"] == ""  # the slide's title already says it
