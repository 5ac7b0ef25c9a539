"""Everything on a slide is read: charts, "header: value" table rows, groups, shapes
python-pptx cannot type or does not iterate, and decks LibreOffice wrote."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from lxml import etree

from mmrag.chunking.chunker import Chunker
from mmrag.loaders import PptxLoader

DATA = Path(__file__).parent / "data" / "pptx"
_P = "http://schemas.openxmlformats.org/presentationml/2006/main"
_MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"


def load(path: Path):
    return list(PptxLoader(ocr=False).load(path, str(path)))


def _textbox(slide, text: str, top: float):
    from pptx.util import Inches

    box = slide.shapes.add_textbox(Inches(1), Inches(top), Inches(5), Inches(0.5))
    box.text_frame.text = text
    return box


def write_full_deck(path: Path) -> Path:
    """Slide 1: a chart only. Slide 2: a group of text boxes, a table, an untyped
    text shape and a shape inside mc:AlternateContent (as PowerPoint wraps equations)."""
    from pptx import Presentation
    from pptx.chart.data import CategoryChartData, XyChartData
    from pptx.enum.chart import XL_CHART_TYPE
    from pptx.util import Inches

    prs = Presentation()
    s1 = prs.slides.add_slide(prs.slide_layouts[6])
    data = CategoryChartData()
    data.categories = ["2024", "2025"]
    data.add_series("Containers per hour", (12, 19.5))
    data.add_series("Crane downtime", (4, None))
    chart = s1.shapes.add_chart(XL_CHART_TYPE.COLUMN_CLUSTERED, Inches(1), Inches(1), Inches(6), Inches(4), data).chart
    chart.has_title = True
    chart.chart_title.text_frame.text = "Quay throughput"
    chart.value_axis.has_title = True
    chart.value_axis.axis_title.text_frame.text = "moves"
    xy = XyChartData()
    xy.add_series("Wind gusts").add_data_point(3, 41.5)
    s1.shapes.add_chart(XL_CHART_TYPE.XY_SCATTER, Inches(1), Inches(5), Inches(4), Inches(2), xy)

    s2 = prs.slides.add_slide(prs.slide_layouts[6])
    group = s2.shapes.add_group_shape()
    for i, text in enumerate(["Grouped: berth four dredged", "Grouped: pilot boat replaced"]):
        group.shapes.add_textbox(Inches(1), Inches(1 + i * 0.5), Inches(5), Inches(0.5)).text_frame.text = text
    table = s2.shapes.add_table(3, 2, Inches(1), Inches(3), Inches(6), Inches(1)).table
    for r, row in enumerate([("Crane", "Capacity"), ("STS-1", "65 t"), ("STS-2", "")]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    untyped = _textbox(s2, "Untyped: tide gauge offline", 5)
    untyped._element.spPr.remove(untyped._element.spPr.prstGeom)  # no geometry, no txBox flag: no shape_type
    untyped._element.nvSpPr.cNvSpPr.attrib.pop("txBox")
    wrapped = _textbox(s2, "Wrapped: E = m c squared", 6)
    tree = wrapped._element.getparent()
    alternate = etree.SubElement(tree, f"{{{_MC}}}AlternateContent")
    choice = etree.SubElement(alternate, f"{{{_MC}}}Choice", Requires="a14")
    fallback = etree.SubElement(alternate, f"{{{_MC}}}Fallback")
    fallback.append(copy.deepcopy(wrapped._element))  # the same text twice: it must be read once
    choice.append(wrapped._element)
    prs.save(path)
    return path


def test_a_chart_only_slide_gives_its_title_axes_series_categories_and_values(tmp_path: Path) -> None:
    elements = load(write_full_deck(tmp_path / "quay.pptx"))
    charts = [e for e in elements if e.slide == 1]
    assert [e.metadata["role"] for e in charts] == ["chart", "chart"]
    assert charts[0].text == (
        "Chart: Quay throughput\nAxes: moves\n"
        "Containers per hour: 2024: 12 | 2025: 19.5\nCrane downtime: 2024: 4"
    )
    assert charts[1].text == "Wind gusts: 3: 41.5"


def test_groups_tables_untyped_and_wrapped_shapes_are_all_read_once(tmp_path: Path) -> None:
    elements = load(write_full_deck(tmp_path / "quay.pptx"))
    texts = [e.text for e in elements if e.slide == 2]
    assert texts == [
        "Grouped: berth four dredged",
        "Grouped: pilot boat replaced",
        "Crane: STS-1 | Capacity: 65 t\nCrane: STS-2",
        "Untyped: tide gauge offline",
        "Wrapped: E = m c squared",
    ]


def test_a_slide_is_one_chunk_unless_too_long(tmp_path: Path, text_embedder) -> None:
    elements = load(write_full_deck(tmp_path / "quay.pptx"))
    chunks = [c for c in Chunker(text_embedder.tokenizer).chunk("doc", elements)]
    assert [c.slide for c in chunks] == [1, 2]
    assert "Grouped: pilot boat replaced" in chunks[1].text and "Wrapped: E = m c squared" in chunks[1].text


@pytest.mark.parametrize(
    ("name", "slide", "expected"),
    [
        ("harbour_talk_libreoffice.pptx", 2, ["Lift capacity 65 tonnes", "Rotated margin label", "Twin-lift spreaders"]),
        ("harbour_talk_libreoffice.pptx", 3, ["Containers moved per hour", "2026"]),
        ("shared_mime_info_spec_libreoffice.pptx", 1, ["Shared MIME-info Database"]),
    ],
)
def test_decks_libreoffice_converted_from_pdf_give_every_text_box(name: str, slide: int, expected: list[str]) -> None:
    elements = load(DATA / name)
    text = "\n".join(e.text for e in elements if e.slide == slide)
    for words in expected:
        assert words in text
    assert len({e.slide for e in elements}) == len(__import__("pptx").Presentation(str(DATA / name)).slides)
