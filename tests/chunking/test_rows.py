"""Row windows: whole rows, exact row spans, no overlap, streamed; headings as a location."""

from __future__ import annotations

import pytest

from mmrag.chunking import Chunker, WindowOptions
from mmrag.types import Element, Modality


@pytest.fixture(scope="module")
def tokenizer(text_embedder):
    return text_embedder.tokenizer


def rows(n: int, sheet: str = "Q3", first: int = 2) -> list[Element]:
    return [
        Element(
            source="budget.xlsx", modality=Modality.TEXT, sheet=sheet, row_start=r, row_end=r,
            text=f"Region: area {r}; Cost: {r * 10} euros; Owner: team {r % 7}",
        )
        for r in range(first, first + n)
    ]


def test_rows_are_packed_whole_with_exact_spans_and_never_repeated(tokenizer):
    chunks = list(Chunker(tokenizer, WindowOptions(max_tokens=60, overlap=10)).chunk("d", rows(40)))
    assert len(chunks) > 3
    covered = []
    for c in chunks:
        assert c.sheet == "Q3" and c.row_start is not None and c.row_end is not None
        covered += list(range(c.row_start, c.row_end + 1))
        assert c.text.count("Region:") == c.row_end - c.row_start + 1  # whole rows only
        assert len(tokenizer(c.text, add_special_tokens=False)["input_ids"]) <= 60
        assert f"sheet Q3 > rows {c.row_start}-{c.row_end}" in c.context
    assert covered == list(range(2, 42))  # each row in exactly one chunk, in order


def test_a_new_sheet_starts_new_windows_and_a_wide_row_is_split_keeping_its_number(tokenizer):
    wide = Element(source="budget.xlsx", modality=Modality.TEXT, sheet="Q4", row_start=9, row_end=9,
                   text="; ".join(f"col{i}: value number {i}" for i in range(60)))
    chunks = list(Chunker(tokenizer, WindowOptions(max_tokens=40, overlap=0)).chunk("d", [*rows(2), wide]))
    assert [c.sheet for c in chunks][:1] == ["Q3"]
    q4 = [c for c in chunks if c.sheet == "Q4"]
    assert len(q4) > 1 and all((c.row_start, c.row_end) == (9, 9) for c in q4)


def test_rows_stream_without_materialising_the_sheet(tokenizer):
    made = 0

    def endless():
        nonlocal made
        for r in range(1, 10**9):
            made += 1
            yield Element(source="big.csv", modality=Modality.TEXT, row_start=r, row_end=r, text=f"id: {r}; name: n{r}")

    stream = Chunker(tokenizer, WindowOptions(max_tokens=50, overlap=0)).chunk("d", endless())
    first = next(stream)
    assert first.row_start == 1 and made < 1000


def test_section_chunks_carry_their_heading_path(tokenizer):
    e = Element(source="plan.docx", modality=Modality.TEXT, text="Travel costs rose.", title_path=("Plan", "Costs"))
    [chunk] = Chunker(tokenizer).chunk("d", [e])
    assert chunk.heading == "Plan > Costs" and chunk.metadata["heading"] == "Plan > Costs"
