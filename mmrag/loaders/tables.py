"""Tables as rows that read on their own: a header row is found, and each data
row becomes ``column: value; column: value``, so every window of rows a chunk
holds repeats the header and a single row still says what its numbers are.

Shared by spreadsheets, CSV/TSV, Word and HTML tables. Streams: only the first
``LOOKAHEAD`` non-empty rows are held to find the header.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

from mmrag.types import Element, Modality

LOOKAHEAD = 10  # rows read before deciding which one is the header
_NUMBER = re.compile(r"^[-+(]?[$€£¥]?\s*[\d.,]+%?\)?$")
_SPACE = re.compile(r"\s+")


def cell_text(value: Any) -> str:
    """A cell value as readable text: whole floats without ``.0``, dates without a
    midnight time, whitespace (line breaks in a cell) collapsed."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else f"{value:.10g}"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return _SPACE.sub(" ", str(value)).strip()


def _is_number(text: str) -> bool:
    return bool(_NUMBER.match(text)) and any(c.isdigit() for c in text)


def find_header(rows: Sequence[Sequence[str]]) -> int | None:
    """Index of the header among the first non-empty rows: the first row whose
    cells are all text (no numbers) and that is about as wide as the table (so a
    title line above the table is not taken for it); None when no row qualifies."""
    if not rows:
        return None
    width = max(sum(1 for c in r if c) for r in rows)
    for i, row in enumerate(rows):
        filled = [c for c in row if c]
        if len(filled) >= min(2, width) and len(filled) * 2 >= width and not any(_is_number(c) for c in filled):
            return i if i + 1 < len(rows) else None
    return None


def row_text(header: Sequence[str] | None, cells: Sequence[str], name: Callable[[int], str]) -> str:
    """``column: value; ...`` for the row's non-empty cells (``name(i)`` names a column
    the header leaves blank); ``a | b | c`` when the table has no header."""
    if header is None:
        return " | ".join(c for c in cells if c)
    parts = []
    for i, value in enumerate(cells):
        if value:
            column = header[i] if i < len(header) and header[i] else name(i)
            parts.append(f"{column}: {value}")
    return "; ".join(parts)


def table_elements(
    rows: Iterable[tuple[int, Sequence[Any]]],
    *,
    source: str,
    name: Callable[[int], str],
    sheet: str | None = None,
    title_path: tuple[str, ...] = (),
    page: int | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> Iterator[Element]:
    """Row elements for ``(row number, cell values)`` pairs. Empty rows are dropped;
    rows above the header (a title, notes) become one element spanning them."""
    meta = dict(metadata or {})
    common: dict[str, Any] = {
        "source": source, "modality": Modality.TEXT, "sheet": sheet, "title_path": title_path, "page": page,
    }
    it = iter(rows)
    head: list[tuple[int, list[str]]] = []
    for number, values in it:
        cells = [cell_text(v) for v in values]
        if any(cells):
            head.append((number, cells))
            if len(head) >= LOOKAHEAD:
                break
    at = find_header([cells for _, cells in head])
    header: list[str] | None = None
    if at is not None:
        header = head[at][1]
        if at:
            above = [c for _, cells in head[:at] for c in cells if c]
            yield Element(text="\n".join(above), row_start=head[0][0], row_end=head[at - 1][0], metadata=meta, **common)
        header_row = head[at][0]
        head = head[at + 1 :]
        unfilled = [c for i, c in enumerate(header) if c and not any(i < len(cells) and cells[i] for _, cells in head)]
        if unfilled:  # the header row itself, so a column none of the first rows fills is still found by its name
            yield Element(text=" | ".join(c for c in header if c), row_start=header_row, row_end=header_row, metadata=meta, **common)
        meta = {**meta, "columns": [c for c in header if c]}

    def rest() -> Iterator[tuple[int, list[str]]]:
        yield from head
        for number, values in it:
            cells = [cell_text(v) for v in values]
            if any(cells):
                yield number, cells

    for number, cells in rest():
        yield Element(text=row_text(header, cells, name), row_start=number, row_end=number, metadata=meta, **common)


def with_cell_pictures(rows: Iterable[Element], pictures: Sequence[tuple[int, Element]]) -> Iterator[Element]:
    """A table's row elements, then the pictures in its cells (each given with its
    1-based row number). A picture's text gains its row's text after its alt text:
    the link to the text around it that the chunker gives a picture beside a
    paragraph (its nearest text), here the row it sits in, header and all. Its
    metadata keeps the row as ``table_row``."""
    wanted = {r for r, _ in pictures}
    texts: dict[int, str] = {}
    for row in rows:
        if row.row_start is not None and row.row_end is not None:
            for r in wanted.intersection(range(row.row_start, row.row_end + 1)):
                texts[r] = row.text
        yield row
    for r, picture in pictures:
        text = "\n".join(t for t in (picture.text, texts.get(r, "")) if t)
        yield replace(picture, text=text, metadata={**picture.metadata, "table_row": r})
