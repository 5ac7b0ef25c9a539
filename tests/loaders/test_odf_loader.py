"""OpenDocument text, spreadsheet and presentation files written by odfpy, and a
LibreOffice-saved sheet from tablib's test data (MIT): headings, lists, tables,
sheets with repeated rows, slides with notes; a password-protected file is named."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest

from mmrag.errors import EncryptedFileError
from mmrag.loaders import find_loader

pytest.importorskip("odf", reason="odfpy is not installed")
from odf.draw import Frame, Page, TextBox  # noqa: E402
from odf.namespaces import PRESENTATIONNS  # noqa: E402
from odf.opendocument import OpenDocumentPresentation, OpenDocumentSpreadsheet, OpenDocumentText  # noqa: E402
from odf.presentation import Notes  # noqa: E402
from odf.style import MasterPage, PageLayout  # noqa: E402
from odf.table import Table, TableCell, TableColumn, TableRow  # noqa: E402
from odf.text import H, List, ListItem, P  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / "data" / "third_party"


def load(path: Path):
    loader, _ = find_loader(path)
    assert loader.name == "odf"
    return list(loader.load(path, str(path)))


def row(*values: object, repeat: int = 1) -> TableRow:
    tr = TableRow(numberrowsrepeated=repeat) if repeat > 1 else TableRow()
    for v in values:
        if isinstance(v, (int, float)):
            cell = TableCell(valuetype="float", value=v)
            cell.addElement(P(text=str(v)))
        else:
            cell = TableCell(valuetype="string")
            cell.addElement(P(text=str(v)))
        tr.addElement(cell)
    return tr


def test_odt_headings_lists_and_tables(tmp_path: Path) -> None:
    doc = OpenDocumentText()
    doc.text.addElement(H(outlinelevel=1, text="Harbour plan"))
    doc.text.addElement(H(outlinelevel=2, text="Costs"))
    doc.text.addElement(P(text="Travel costs rose because of the ferry strike."))
    items = List()
    for t in ("Crane rental", "Dredging"):
        li = ListItem()
        li.addElement(P(text=t))
        items.addElement(li)
    doc.text.addElement(items)
    table = Table(name="Costs")
    table.addElement(TableColumn(numbercolumnsrepeated=2))
    table.addElement(row("Item", "Cost"))
    table.addElement(row("Crane", 120))
    doc.text.addElement(table)
    doc.text.addElement(H(outlinelevel=2, text="Risks"))
    doc.text.addElement(P(text="Winter storms may close the harbour."))
    path = tmp_path / "plan.odt"
    doc.save(str(path))
    elements = load(path)
    by_text = {e.text: e for e in elements}
    assert by_text["Travel costs rose because of the ferry strike."].title_path == ("Harbour plan", "Costs")
    assert by_text["• Crane rental\n• Dredging"].title_path == ("Harbour plan", "Costs")
    assert by_text["Item: Crane; Cost: 120"].row_start == 2
    assert by_text["Winter storms may close the harbour."].title_path == ("Harbour plan", "Risks")


def test_ods_sheets_rows_and_repeated_rows_are_not_expanded(tmp_path: Path) -> None:
    doc = OpenDocumentSpreadsheet()
    sheet = Table(name="Q3")
    sheet.addElement(row("Region", "Cost"))
    sheet.addElement(row("North", 100.5))
    sheet.addElement(row("South", 7, repeat=3))
    empty = TableRow(numberrowsrepeated=1_048_000)
    empty.addElement(TableCell(numbercolumnsrepeated=1024))
    sheet.addElement(empty)
    sheet.addElement(row("Harbour", 4200))
    doc.spreadsheet.addElement(sheet)
    people = Table(name="People")
    people.addElement(row("Name", "Role"))
    people.addElement(row("Ana", "Harbour master"))
    doc.spreadsheet.addElement(people)
    path = tmp_path / "budget.ods"
    doc.save(str(path))
    got = [(e.sheet, e.row_start, e.text) for e in load(path)]
    assert got == [
        ("Q3", 2, "Region: North; Cost: 100.5"), ("Q3", 3, "Region: South; Cost: 7"), ("Q3", 4, "Region: South; Cost: 7"),
        ("Q3", 5, "Region: South; Cost: 7"), ("Q3", 1_048_006, "Region: Harbour; Cost: 4200"),
        ("People", 2, "Name: Ana; Role: Harbour master"),
    ]


def test_odp_one_unit_per_slide_with_its_notes(tmp_path: Path) -> None:
    doc = OpenDocumentPresentation()
    layout = PageLayout(name="L")
    doc.automaticstyles.addElement(layout)
    master = MasterPage(name="M", pagelayoutname=layout)
    doc.masterstyles.addElement(master)
    for title, body, note in [("Varroa mites", "Count mites after a sugar roll", "Oxalic acid works best in winter")]:
        page = Page(masterpagename=master)
        for cls, text in (("title", title), ("outline", body)):
            frame = Frame(width="20cm", height="3cm", x="1cm", y="1cm")
            frame.setAttrNS(PRESENTATIONNS, "class", cls)
            box = TextBox()
            box.addElement(P(text=text))
            frame.addElement(box)
            page.addElement(frame)
        notes = Notes()
        frame = Frame(width="20cm", height="3cm", x="1cm", y="1cm")
        box = TextBox()
        box.addElement(P(text=note))
        frame.addElement(box)
        notes.addElement(frame)
        page.addElement(notes)
        doc.presentation.addElement(page)
    path = tmp_path / "bees.odp"
    doc.save(str(path))
    elements = load(path)
    assert {e.slide for e in elements} == {1} and all(e.title_path == ("Varroa mites",) for e in elements)
    assert [e.metadata["role"] for e in elements if "Oxalic" in e.text] == ["notes"]
    assert any("sugar roll" in e.text for e in elements)


def test_a_libreoffice_saved_sheet_from_tablib() -> None:
    elements = load(DATA / "tablib" / "book.ods")
    assert {e.sheet for e in elements} == {"Sheet1", "Sheet2"} and all(e.row_start for e in elements)
    assert "second | sheet" in " ".join(e.text for e in elements if e.sheet == "Sheet2")


def test_a_password_protected_file_is_a_named_error(tmp_path: Path) -> None:
    doc = OpenDocumentText()
    doc.text.addElement(P(text="secret"))
    plain = tmp_path / "plain.odt"
    doc.save(str(plain))
    path = tmp_path / "sealed.odt"
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(path, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "META-INF/manifest.xml":  # what LibreOffice writes for a password-protected part
                data = re.sub(rb'(<manifest:file-entry manifest:full-path="content.xml"[^>]*)/>',
                              rb'\1><manifest:encryption-data manifest:checksum="x"/></manifest:file-entry>', data)
                assert b"encryption-data" in data
            dst.writestr(info, data)
    with pytest.raises(EncryptedFileError, match=r"sealed\.odt: password-protected OpenDocument file"):
        load(path)
