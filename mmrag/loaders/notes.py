"""Library warnings about one file become that file's report note, never console output."""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from itertools import islice
from typing import TypeVar

T = TypeVar("T")
NOTE_KEY = "load_note"  # element metadata key the ingest report reads notes from
_BATCH = 512


@contextmanager
def collect_warnings(notes: list[str]) -> Iterator[None]:
    """Record the warnings raised inside the block into ``notes`` (each once)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for w in caught:
        text = f"{w.category.__name__}: {w.message}"
        if text not in notes:
            notes.append(text)


def quiet(items: Iterable[T], notes: list[str]) -> Iterator[T]:
    """``items``, pulled in batches inside ``collect_warnings``: a lazy parser's
    warnings are caught without holding the warnings filter across a ``yield``
    (which would hide the consumer's own warnings)."""
    it = iter(items)
    while True:
        with collect_warnings(notes):
            batch = list(islice(it, _BATCH))
        if not batch:
            return
        yield from batch


def note_metadata(notes: list[str]) -> dict[str, str]:
    """The metadata that carries ``notes`` to the file's report line."""
    return {NOTE_KEY: "; ".join(notes)} if notes else {}
