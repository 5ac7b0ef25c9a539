"""Warnings the file-reading libraries give about one file, kept for that file's
report note instead of the console.

pypdf alone printed hundreds of lines ("Unexpected escaped string", "fontTools
is required...") on a folder of real LaTeX manuals, through the ``logging``
last-resort handler and ``warnings``. mmrag configures no logging: for the time
one file is read, ``capture`` lends these loggers a handler that counts what
they say (and stops it propagating), then gives the loggers back as they were.
"""

from __future__ import annotations

import logging
import warnings
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

# The loggers of the libraries loaders call; their records about a file are its business.
LIBRARY_LOGGERS = ("pypdf", "pptx", "PIL", "docx", "openpyxl")
_active: ContextVar[LibraryNotes | None] = ContextVar("mmrag_file_notes", default=None)
_EXAMPLES = 3


def file_note(message: str) -> None:
    """Say ``message`` on the report line of the file being read: a loader's own
    note that no element carries (a page it could not render). Outside
    ``capture`` (a loader used on its own) there is no report line: it is dropped."""
    notes = _active.get()
    if notes is not None and message not in notes.loader_notes:
        notes.loader_notes.append(message)


@dataclass
class LibraryNotes:
    """What the libraries said while one file was read: message -> times; and
    the loader's own ``file_note`` messages, in order, each once."""

    messages: Counter[str] = field(default_factory=Counter)
    loader_notes: list[str] = field(default_factory=list)

    def note(self) -> str | None:
        """One report note for them all, or None when they said nothing."""
        total = sum(self.messages.values())
        if not total:
            return None
        examples = "; ".join(f"'{m}'" + (f" x{n}" if n > 1 else "") for m, n in self.messages.most_common(_EXAMPLES))
        more = len(self.messages) - _EXAMPLES
        return f"the file's parser warned {total} time{'s' if total != 1 else ''}: {examples}" + (
            f" and {more} other messages" if more > 0 else ""
        )


class _Collect(logging.Handler):
    def __init__(self, notes: LibraryNotes) -> None:
        super().__init__(logging.WARNING)
        self.notes = notes

    def emit(self, record: logging.LogRecord) -> None:
        self.notes.messages[_short(record.getMessage())] += 1


def _short(message: str) -> str:
    line = message.strip().splitlines()[0] if message.strip() else "(empty message)"
    return line if len(line) <= 120 else line[:117] + "..."


@contextmanager
def capture() -> Iterator[LibraryNotes]:
    """Inside the block, the libraries' warnings (logged or ``warnings.warn``) are
    collected into the yielded ``LibraryNotes`` and kept off the console."""
    notes = LibraryNotes()
    token = _active.set(notes)
    handler = _Collect(notes)
    saved = []
    for name in LIBRARY_LOGGERS:
        logger = logging.getLogger(name)
        saved.append((logger, logger.propagate))
        logger.addHandler(handler)
        logger.propagate = False
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield notes
        for w in caught:
            notes.messages[_short(str(w.message))] += 1
    finally:
        _active.reset(token)
        for logger, propagate in saved:
            logger.removeHandler(handler)
            logger.propagate = propagate
