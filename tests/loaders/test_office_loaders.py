"""DOCX, XLSX and CSV loaders on real files written by python-docx, openpyxl and csv."""

from __future__ import annotations

from pathlib import Path

import pytest

from mmrag.chunking import Chunker, WindowOptions
from mmrag.loaders import CsvLoader, DocxLoader, XlsxLoader, find_loader, open_image
from mmrag.types import Modality
from tests.loaders.office_files import write_csv, write_docx, write_xlsx


def test_docx_headings_lists_tables_pictures_and_side_texts(tmp_path: Path) -> None:
    path = write_docx(tmp_path / "plan.docx")
    elements = list(DocxLoader().load(path, str(path)))
    by_text = {e.text: e for e in elements}
    travel = by_text["Travel costs rose sharply in the third quarter because of the ferry strike."]
    assert travel.title_path == ("Harbour plan", "Costs") and travel.page is None  # python-docx stores no pages
    assert by_text["• Crane rental is the largest single item."].metadata["role"] == "list_item"
    assert by_text["Winter storms may close the harbour mouth for weeks."].title_path == ("Harbour plan", "Costs", "Risks")
    assert by_text["Works start in April and end before the summer season."].title_path == ("Harbour plan", "Schedule")
    rows = [e for e in elements if e.row_start is not None]
    assert [(e.row_start, e.text) for e in rows] == [
        (2, "Item: Crane; Cost: 120; Owner: Ana"), (3, "Item: Tug boat; Cost: 80; Owner: Ben"), (4, "Item: Pilot; Cost: 15; Owner: Cy"),
    ]
    assert all(e.metadata["table"] == 1 and e.title_path == ("Harbour plan", "Costs") for e in rows)
    [picture] = [e for e in elements if e.modality is Modality.IMAGE]
    assert picture.text == "A red harbour crane\nFigure 1: the crane at berth four"
    assert open_image(picture.image).size == (60, 40)  # the ref finds the pixels again
    assert by_text["Ana: Check the storm statistics with the coast guard"].title_path == ("Comments",)
    assert by_text["Confidential draft for the port board"].title_path == ("Headers and footers",)


def test_docx_pages_only_where_word_stored_them(tmp_path: Path) -> None:
    import docx

    d = docx.Document()
    d.add_paragraph("First page text.")
    second = d.add_paragraph("")
    second.add_run()._r.append(docx.oxml.parse_xml(  # what Word writes where it laid out a new page
        '<w:lastRenderedPageBreak xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"/>'))
    second.add_run("Second page text.")
    d.save(tmp_path / "paged.docx")
    pages = {e.text: e.page for e in DocxLoader().load(tmp_path / "paged.docx", "paged.docx")}
    assert pages == {"First page text.": 1, "Second page text.": 2}


def test_docx_chunks_name_their_heading_and_table_rows(tmp_path: Path, text_embedder) -> None:
    path = write_docx(tmp_path / "plan.docx")
    chunks = list(Chunker(text_embedder.tokenizer).chunk("d", DocxLoader().load(path, str(path))))
    table = next(c for c in chunks if c.row_start is not None)
    assert (table.heading, table.row_start, table.row_end) == ("Harbour plan > Costs", 2, 4)
    assert "table 1" in table.context
    image = next(c for c in chunks if c.modality is Modality.IMAGE)
    assert image.heading == "Harbour plan > Costs" and "crane at berth four" in image.text


def test_xlsx_rows_with_header_sheet_and_cached_values(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "budget.xlsx", rows=3)
    elements = list(XlsxLoader().load(path, str(path)))
    got = [(e.sheet, e.row_start, e.text) for e in elements]
    assert got == [
        ("Q3", 1, "Budget 2026, third quarter"),
        ("Q3", 4, "Region: Region 0; Item: item-0; Cost: 100; Booked: 2026-07-01"),
        ("Q3", 5, "Region: Region 1; Item: item-1; Cost: 102.5; Booked: 2026-07-02"),
        ("Q3", 6, "Region: Region 2; Item: item-2; Cost: 105; Booked: 2026-07-03"),
        ("Q3", 8, "Region: Harbour; Item: Crane rental; Cost: 4200; Booked: 2026-09-30"),
        ("People", 2, "Name: Ana; Role: Harbour master"),
        ("People", 3, "Name: Ben; Role: Pilot"),
    ]


def test_xlsx_formulas_are_read_as_their_cached_values() -> None:
    # LibreOffice Calc saved this workbook, so its formula cell holds a cached value (see data/xlsx/README.md)
    path = Path(__file__).parent / "data" / "xlsx" / "formula_cached_libreoffice.xlsx"
    [row] = XlsxLoader().load(path, path.name)
    assert row.text == "Item: Total; Cost: 42"


def test_xlsx_windows_repeat_the_header_and_give_exact_rows(tmp_path: Path, text_embedder) -> None:
    path = write_xlsx(tmp_path / "budget.xlsx", rows=60)
    chunks = list(Chunker(text_embedder.tokenizer, WindowOptions(max_tokens=80, overlap=0)).chunk("d", XlsxLoader().load(path, str(path))))
    q3 = [c for c in chunks if c.sheet == "Q3" and c.row_start and c.row_start > 1]
    assert len(q3) > 5
    for c in q3:
        assert all(line.startswith("Region: ") for line in c.text.splitlines())  # the header, in every row
        assert c.text.count("\n") + 1 == c.row_end - c.row_start + 1 - (c.row_start <= 64 < c.row_end)  # row 64 is empty
    assert any(c.row_start <= 65 <= c.row_end and "Crane rental" in c.text for c in q3)


def test_csv_dialect_encoding_quoting_and_row_numbers(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "trips.csv", delimiter=";", encoding="utf-16")
    elements = list(CsvLoader().load(path, str(path)))
    assert [(e.row_start, e.text) for e in elements] == [
        (2, "city: Tromsø; country: Norway; distance_km: 1150; note: northern lights, whale watching"),
        (3, 'city: Gdańsk; country: Poland; distance_km: 980; note: old town; "amber" market'),
        (5, "city: Málaga; country: Spain; distance_km: 2300; note: beaches and a second line"),
    ]
    tsv = tmp_path / "trips.tsv"
    tsv.write_text("1\t2\n3\t4,5\n")
    assert [e.text for e in CsvLoader().load(tsv, "trips.tsv")] == ["1 | 2", "3 | 4,5"]  # numbers only: no header


def test_csv_in_a_legacy_encoding_is_detected_and_noted(tmp_path: Path) -> None:
    path = tmp_path / "old.csv"
    lines = ["nom,ville,remarque"] + [f"Élodie {i},Besançon,déjà reçu à l'été, très apprécié" for i in range(30)]
    path.write_bytes("\n".join(lines).encode("cp1252"))
    elements = list(CsvLoader().load(path, "old.csv"))
    assert elements[0].text.startswith("nom: Élodie 0; ville: Besançon; remarque: déjà reçu")
    assert "not UTF-8" in elements[0].metadata["load_note"]


@pytest.mark.parametrize(("writer", "wrong_name", "loader"), [
    (write_docx, "report.xlsx", "docx"), (write_xlsx, "numbers.docx", "xlsx"), (write_xlsx, "numbers.bin", "xlsx"),
])
def test_zip_formats_are_picked_by_their_content(tmp_path: Path, writer, wrong_name: str, loader: str) -> None:
    path = writer(tmp_path / wrong_name)
    found, note = find_loader(path)
    assert found.name == loader and "does not match its content" in (note or "")
