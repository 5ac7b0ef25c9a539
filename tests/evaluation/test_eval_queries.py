"""Queries files: valid forms, and bad ones rejected with the line number."""

import pytest

from mmrag.evaluation import QueriesFileError, Relevant, parse_queries, read_queries


def test_both_forms_of_relevant_items_and_optional_fields(tmp_path):
    (tmp_path / "cat.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    path = tmp_path / "q.jsonl"
    path.write_text(
        '{"query": "crane capacity", "source": "harbour.pdf", "page": 2}\n'
        "\n"
        '{"id": "deck", "query": "roadmap", "relevant": [{"source": "plan.pptx", "slide": 3}, {"source": "a.md"}]}\n'
        '{"query": "the moment they laugh", "source": "talk.vtt", "t": 61.5, "group": "transcripts"}\n'
        '{"image": "cat.png", "source": "pets.pdf"}\n'
    )
    q = read_queries(path)
    assert [x.id for x in q] == ["line-1", "deck", "line-4", "line-5"]
    assert q[0].relevant == (Relevant("harbour.pdf", page=2),) and q[0].modality == "text"
    assert q[1].relevant == (Relevant("plan.pptx", slide=3), Relevant("a.md"))
    assert [r.level for r in q[1].relevant] == ["slide", "source"]
    assert q[2].relevant[0].t == 61.5 and q[2].group == "transcripts"
    assert q[3].image == str(tmp_path / "cat.png") and q[3].modality == "image" and q[3].text is None


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("{not json", "invalid JSON"),
        ("[1, 2]", "expected a JSON object, got list"),
        ('{"source": "a.pdf"}', "needs 'query' (text), 'image' (a path) or both"),
        ('{"query": "   ", "source": "a.pdf"}', "'query' must be a non-empty string"),
        ('{"query": "x"}', "needs the relevant item(s)"),
        ('{"query": "x", "source": "a.pdf", "pages": 2}', "unknown key(s) pages"),
        ('{"query": "x", "source": "a.pdf", "page": 0}', "'page' must be an integer >= 1"),
        ('{"query": "x", "source": "a.pdf", "page": "2"}', "'page' must be an integer >= 1"),
        ('{"query": "x", "source": "a.pdf", "page": 1, "slide": 2}', "gives page and slide"),
        ('{"query": "x", "source": "a.vtt", "t": -1}', "'t' must be a number of seconds >= 0"),
        ('{"query": "x", "source": "a.xlsx", "row": 0}', "'row' must be an integer >= 1"),
        ('{"query": "x", "source": "a.xlsx", "sheet": ""}', "'sheet' must be a non-empty string"),
        ('{"query": "x", "source": "a.docx", "heading": 3}', "'heading' must be a non-empty string"),
        ('{"query": "x", "source": "a.docx", "heading": "A", "page": 2}', "gives page and heading"),
        ('{"query": "x", "relevant": []}', "'relevant' must be a non-empty list"),
        ('{"query": "x", "relevant": [{"page": 1}]}', "relevant[0] needs 'source'"),
        ('{"query": "x", "relevant": [{"source": "a", "slid": 1}]}', "relevant[0] has unknown key(s) slid"),
        ('{"query": "x", "relevant": [{"source": "a"}], "source": "b"}', "not both"),
        ('{"image": "missing.png", "source": "a.pdf"}', "image 'missing.png' not found"),
        ('{"id": "line-1", "query": "y", "source": "a.pdf"}', "duplicate id 'line-1' (first on line 1)"),
    ],
)
def test_bad_lines_name_file_and_line(tmp_path, line, problem):
    path = tmp_path / "q.jsonl"
    path.write_text('{"query": "fine", "source": "a.pdf"}\n\n' + line + "\n")
    with pytest.raises(QueriesFileError) as info:
        read_queries(path)
    assert info.value.line == 3
    assert str(info.value).startswith(f"{path}:3: ") and problem in str(info.value)


def test_sheet_row_and_heading_items():
    q = parse_queries([
        '{"query": "q3 travel", "source": "budget.xlsx", "sheet": "Q3", "row": 17}',
        '{"query": "costs", "relevant": [{"source": "plan.docx", "heading": "Plan > Costs"}, {"source": "a.csv", "row": 4}]}',
    ])
    assert q[0].relevant == (Relevant("budget.xlsx", sheet="Q3", row=17),) and q[0].relevant[0].level == "row"
    assert [r.level for r in q[1].relevant] == ["heading", "row"]


def test_empty_missing_and_binary_files(tmp_path):
    with pytest.raises(QueriesFileError, match="no queries"):
        parse_queries(["", "  "], "empty.jsonl")
    with pytest.raises(QueriesFileError, match="nope.jsonl: no such file"):
        read_queries(tmp_path / "nope.jsonl")
    (tmp_path / "bin.jsonl").write_bytes(b"\xff\xfe\x00junk")
    with pytest.raises(QueriesFileError, match="not UTF-8"):
        read_queries(tmp_path / "bin.jsonl")
