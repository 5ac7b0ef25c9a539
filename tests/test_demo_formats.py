"""The demo's office, web, e-book and mail files (examples/data, written by
make_data.py) answer their demo queries at the right heading, sheet and row, or
attachment and page."""

from __future__ import annotations

from pathlib import Path

import pytest

import mmrag
from examples.demo import QUERIES

DATA = Path(__file__).resolve().parent.parent / "examples" / "data"
FILES = [
    "harbour_plan.docx", "harbour_budget.xlsx", "ferry_routes.csv", "ferry_guide.html", "lighthouse_keeper.epub",
    "crane_inspection.eml",
]
EXPECTED = {  # query -> (file, heading, sheet, row)
    "what can delay the concrete pours in winter?": ("harbour_plan.docx", "Harbour renewal plan > Works > Risks", None, None),
    "staff travel to the crane supplier": ("harbour_budget.xlsx", None, "Q3", 7),
    "where might polar bears be seen from a ferry?": ("ferry_routes.csv", None, None, 4),
    "where do dogs travel on the ferry?": ("ferry_guide.html", "Ferry passenger guide > Luggage and animals", None, None),
    "what happened to the timber pier by dawn?": ("lighthouse_keeper.epub", "The Storm > Morning", None, None),
    "why is crane four out of service?": ("crane_inspection.eml#crane_inspection_report.pdf", None, None, None),
}


@pytest.mark.slow
def test_each_new_format_answers_its_demo_query_at_its_location(tmp_path: Path, text_embedder) -> None:
    assert set(EXPECTED) <= set(QUERIES)
    index = mmrag.Index(str(tmp_path / "demo.db"), embedder=text_embedder)
    try:
        report = index.ingest([DATA / name for name in FILES])
        assert report.ok and len(report.files) == len(FILES)
        for query, (name, heading, sheet, row) in EXPECTED.items():
            top = index.search(query, k=1)[0].to_dict()
            assert top["source"].endswith(name), query
            if heading:
                assert top["heading"] == heading, query
            if sheet:
                assert top["sheet"] == sheet, query
            if row:
                assert top["row_start"] <= row <= top["row_end"], query
        top = index.search("why is crane four out of service?", k=1)[0].to_dict()
        assert (top["attachment"], top["page"]) == ("crane_inspection_report.pdf", 2)  # the mail's PDF, its load test page
        assert top["metadata"]["parent_source"].endswith("crane_inspection.eml")
    finally:
        index.close()
