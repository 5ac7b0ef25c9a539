"""Pictures where documents also keep them: in Word and ODT table cells, on ODP
slides, and inline as ``data:`` URIs in an EPUB chapter. Each becomes an IMAGE
element at its place (heading path, table row, slide), linked to the text
around it, and its reference opens the same pixels again. Every file is written
by the library a user's tool would use (python-docx, odfpy, ebooklib)."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest

from mmrag.chunking import Chunker
from mmrag.loaders import DocxLoader, EpubLoader, OdfLoader, open_image
from mmrag.types import Element, Modality
from tests.loaders.office_files import write_odp
from tests.mixed_files import png_bytes, text_picture


def _png(size: tuple[int, int]) -> bytes:
    """A picture told apart from the others by its size alone."""
    return png_bytes(text_picture(["x"], size, font_size=12))


def _pictures(elements: list[Element]) -> list[Element]:
    return [e for e in elements if e.modality is Modality.IMAGE]


def test_docx_table_cell_pictures_follow_their_rows_and_body_indices_stay(tmp_path: Path, text_embedder) -> None:
    import docx
    from docx.shared import Inches

    doc = docx.Document()
    doc.add_heading("Fleet", 1)
    table = doc.add_table(rows=3, cols=2)
    for r, (name, size) in enumerate([("Vehicle", None), ("Crane 7", (90, 31)), ("Truck 2", (90, 32))]):
        table.cell(r, 0).text = name
        if size is None:
            table.cell(r, 1).text = "Photo"
        else:
            table.cell(r, 1).paragraphs[0].add_run().add_picture(io.BytesIO(_png(size)), width=Inches(1))
    table.cell(2, 1).paragraphs[0].runs[0]._r.xpath(".//wp:docPr")[0].set("descr", "Truck two at the gate")
    doc.add_paragraph("The depot after the table.")
    doc.add_picture(io.BytesIO(_png((90, 40))), width=Inches(1))  # a body picture after the table
    path = tmp_path / "fleet.docx"
    doc.save(path)

    elements = list(DocxLoader(ocr=False).load(path, str(path)))
    body, crane, truck = sorted(_pictures(elements), key=lambda e: e.image.index)
    assert (body.image.index, body.metadata.get("table")) == (0, None)  # counted first, as before cells were read
    assert [(p.metadata["table"], p.metadata["table_row"], p.title_path) for p in (crane, truck)] == [
        (1, 2, ("Fleet",)), (1, 3, ("Fleet",))]
    assert crane.text == "Vehicle: Crane 7" and truck.text == "Truck two at the gate\nVehicle: Truck 2"
    assert [open_image(p.image).size for p in (body, crane, truck)] == [(90, 40), (90, 31), (90, 32)]
    order = [(e.modality, e.text) for e in elements]
    last_row, depot = order.index((Modality.TEXT, "Vehicle: Truck 2")), order.index((Modality.TEXT, "The depot after the table."))
    assert last_row < order.index((Modality.IMAGE, crane.text)) < depot  # after their table, before the text that follows

    chunks = list(Chunker(text_embedder.tokenizer).chunk("d", elements))
    [chunk] = [c for c in chunks if c.modality is Modality.IMAGE and c.metadata.get("table_row") == 3]
    assert chunk.heading == "Fleet" and "Vehicle: Truck 2" in chunk.text and chunk.image.index == 2




def _frame(doc, data: bytes, name: str, alt: str = ""):
    from odf.draw import Frame
    from odf.draw import Image as DrawImage
    from odf.svg import Desc

    frame = Frame(width="4cm", height="1cm", anchortype="as-char", name=name)
    frame.addElement(DrawImage(href=doc.addPicture(f"Pictures/{name}.png", "image/png", data)))
    if alt:
        frame.addElement(Desc(text=alt))
    return frame


def test_odt_table_cell_pictures_follow_their_rows(tmp_path: Path) -> None:
    pytest.importorskip("odf", reason="odfpy is not installed")
    from odf.opendocument import OpenDocumentText
    from odf.table import Table, TableCell, TableColumn, TableRow
    from odf.text import H, P

    doc = OpenDocumentText()
    doc.text.addElement(H(outlinelevel=1, text="Fleet"))
    table = Table(name="Vehicles")
    table.addElement(TableColumn(numbercolumnsrepeated=2))
    for name, size in [("Vehicle", None), ("Crane 7", (90, 31)), ("Truck 2", (90, 32))]:
        row = TableRow()
        for text in (name, "Photo" if size is None else None):
            cell = TableCell()
            para = P(text=text) if text else P()
            if text is None:
                para.addElement(_frame(doc, _png(size), name.replace(" ", ""), f"photo of {name}"))
            cell.addElement(para)
            row.addElement(cell)
        table.addElement(row)
    doc.text.addElement(table)
    after = P(text="The depot after the table.")
    after.addElement(_frame(doc, _png((90, 40)), "depot"))
    doc.text.addElement(after)
    path = tmp_path / "fleet.odt"
    doc.save(str(path))

    pictures = _pictures(list(OdfLoader(ocr=False).load(path, str(path))))
    body, crane, truck = sorted(pictures, key=lambda e: e.image.index)
    assert body.image.index == 0 and "table" not in body.metadata
    assert [(p.metadata["table"], p.metadata["table_row"], p.title_path) for p in (crane, truck)] == [
        (1, 2, ("Fleet",)), (1, 3, ("Fleet",))]
    assert crane.text.startswith("photo of Crane 7\n") and "Vehicle: Crane 7" in crane.text
    assert [open_image(p.image).size for p in (body, crane, truck)] == [(90, 40), (90, 31), (90, 32)]


def test_odp_slide_pictures_sit_on_their_slide_between_its_text_and_notes(tmp_path: Path, text_embedder) -> None:
    pytest.importorskip("odf", reason="odfpy is not installed")
    slides = [("Hive count", _png((90, 31)), "Hive count chart"), ("Honey yield", _png((90, 32)), "Honey yield chart")]
    path = write_odp(tmp_path / "bees.odp", slides, notes_picture=_png((90, 60)))  # a notes page's picture is not the slide's

    elements = list(OdfLoader(ocr=False).load(path, str(path)))
    pictures = _pictures(elements)
    assert [(p.slide, p.title_path, p.text, p.image.index) for p in pictures] == [
        (1, ("Hive count",), "Hive count chart", 0), (2, ("Honey yield",), "Honey yield chart", 1)]
    assert [open_image(p.image).size for p in pictures] == [(90, 31), (90, 32)]
    chunks = list(Chunker(text_embedder.tokenizer).chunk("d", elements))
    image = next(c for c in chunks if c.modality is Modality.IMAGE and c.slide == 2)
    text = next(c for c in chunks if c.modality is Modality.TEXT and c.slide == 2)
    assert image.metadata["text_ids"] == [text.id] and text.metadata["image_ids"] == [image.id]


def test_epub_inline_data_pictures_are_images_numbered_after_the_files(tmp_path: Path) -> None:
    from ebooklib import epub

    def uri(size: tuple[int, int]) -> str:
        return "data:image/png;base64," + base64.b64encode(_png(size)).decode()

    book = epub.EpubBook()
    book.set_identifier("fleet-1")
    book.set_title("Fleet")
    book.set_language("en")
    one = epub.EpubHtml(title="Cranes", file_name="text/one.xhtml", lang="en")
    one.content = f"<h1>Cranes</h1><p>Crane seven.</p><img src='{uri((90, 31))}' alt='crane'/><img src='../img/a.png' alt='file'/>"
    two = epub.EpubHtml(title="Trucks", file_name="text/two.xhtml", lang="en")
    two.content = f"<h1>Trucks</h1><p>Truck two.</p><img src='{uri((90, 32))}' alt='truck'/><img src='{uri((90, 31))}' alt='again'/>"
    for item in (one, two, epub.EpubItem(uid="a", file_name="img/a.png", media_type="image/png", content=_png((90, 40)))):
        book.add_item(item)
    book.toc = (one, two)
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = [one, two]
    path = tmp_path / "fleet.epub"
    epub.write_epub(str(path), book)

    pictures = _pictures(list(EpubLoader(ocr=False).load(path, str(path))))
    assert [(p.text, p.title_path, p.image.index) for p in pictures] == [
        ("crane", ("Cranes",), 1), ("file", ("Cranes",), 0), ("truck", ("Trucks",), 2), ("again", ("Trucks",), 1)]
    assert [open_image(p.image).size for p in pictures] == [(90, 31), (90, 40), (90, 32), (90, 31)]


def test_html_table_cell_pictures_follow_their_rows(tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "img").mkdir(parents=True)
    (site / "img" / "crane.png").write_bytes(_png((90, 31)))
    inline = "data:image/png;base64," + base64.b64encode(_png((90, 32))).decode()
    page = site / "fleet.html"
    page.write_text(f"""<!doctype html><html><body><main><h1>Fleet</h1>
        <table><tr><th>Vehicle</th><th>Photo</th></tr>
        <tr><td>Crane 7</td><td><img src="img/crane.png" alt="crane at the quay"></td></tr>
        <tr><td>Truck 2</td><td><img src="{inline}"></td></tr>
        <tr><td>Tug 1</td><td><img src="http://example.invalid/tug.png" alt="tug at sea"></td></tr></table>
        <p>The depot after the table.</p></main></body></html>""", encoding="utf-8")
    from mmrag.loaders import HtmlLoader

    elements = list(HtmlLoader(ocr=False).load(page, str(page)))
    crane, truck = _pictures(elements)
    assert [(p.metadata["table"], p.metadata["table_row"], p.title_path) for p in (crane, truck)] == [
        (1, 2, ("Fleet",)), (1, 3, ("Fleet",))]
    assert crane.text == "crane at the quay\nVehicle: Crane 7" and truck.text == "Vehicle: Truck 2"
    assert [open_image(p.image).size for p in (crane, truck)] == [(90, 31), (90, 32)]
    [remote] = [e for e in elements if e.metadata.get("role") == "image_alt"]  # never fetched: its alt text only
    assert (remote.text, remote.metadata["table_row"]) == ("Image: tug at sea", 4)
