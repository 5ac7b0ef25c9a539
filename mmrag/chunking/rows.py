"""Row windows: whole table rows packed into windows by tokens, streamed.

A loader gives one element per row, already readable on its own (``column:
value; column: value``, so every window repeats the header). Rows are records,
not prose: a window never cuts a row (only a row longer than a window is split,
each piece keeping that row's number) and windows do not overlap, so each row
is in exactly one hit and its ``row_start``/``row_end`` are exact. Rows are
tokenized in batches and windows yielded as they fill, so a sheet of a million
rows is never held whole.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice

from mmrag.chunking.windows import Tokenizer, WindowOptions, token_windows
from mmrag.types import Element

_BATCH = 256  # rows tokenized per call: one fast-tokenizer call is far cheaper than 256


@dataclass(frozen=True, slots=True)
class RowWindow:
    """Consecutive rows of one table: their text and the rows they span (inclusive)."""

    text: str
    row_start: int
    row_end: int


def _token_counts(tokenizer: Tokenizer, texts: list[str]) -> list[int]:
    enc = tokenizer(texts, add_special_tokens=False, truncation=False, verbose=False)  # long rows are windowed: no length warning
    return [len(ids) for ids in enc["input_ids"]]


def row_windows(rows: Iterable[Element], tokenizer: Tokenizer, options: WindowOptions) -> Iterator[RowWindow]:
    """Windows over row elements (each with ``row_start``/``row_end``), in order."""
    pending: list[Element] = []
    tokens = 0

    def flush() -> Iterator[RowWindow]:
        if pending:
            yield RowWindow("\n".join(r.text for r in pending), int(pending[0].row_start or 1), int(pending[-1].row_end or 1))
            pending.clear()

    it = iter(rows)
    while batch := list(islice(it, _BATCH)):
        for row, count in zip(batch, _token_counts(tokenizer, [r.text for r in batch])):
            if count > options.max_tokens:  # one very wide row: split it, each piece keeps its row
                yield from flush()
                tokens = 0
                for a, b in token_windows(row.text, tokenizer, WindowOptions(options.max_tokens, 0)):
                    yield RowWindow(row.text[a:b], int(row.row_start or 1), int(row.row_end or 1))
                continue
            if pending and tokens + count > options.max_tokens:
                yield from flush()
                tokens = 0
            pending.append(row)
            tokens += count
    yield from flush()
