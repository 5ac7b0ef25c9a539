"""Library exceptions said as sentences a user can act on.

The decoders under the loaders (pypdf, lxml, Pillow, zipfile, json) raise their
own exception types with messages written for their developers:
``LimitReachedError: Array-based stream has 20000 > 10000 elements``. A report
line shows ``explain(exc)`` instead: what is wrong with the file, in words,
with the library's message kept as the detail. Families are told by the
exception's class name and module (no library is imported to check), so this
module costs nothing when a library is absent.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

# What to call a file in a sentence, by extension ("the deck is missing part rId7").
_KINDS = {
    ".pdf": "PDF",
    ".pptx": "deck",
    ".docx": "document",
    ".xlsx": "workbook",
    ".xlsm": "workbook",
    ".epub": "e-book",
    ".json": "transcript",
    ".srt": "transcript",
    ".vtt": "transcript",
    ".png": "picture",
    ".jpg": "picture",
    ".jpeg": "picture",
    ".gif": "picture",
    ".tif": "picture",
    ".tiff": "picture",
    ".webp": "picture",
    ".bmp": "picture",
}


def kind_of(path: str | Path) -> str:
    """What a sentence calls this file: "deck", "PDF", "transcript"... or "file"."""
    return _KINDS.get(Path(path).suffix.lower(), "file")


def explain(exc: BaseException, kind: str = "file") -> str:
    """``exc`` as a sentence about the file (``kind``: what to call it), the
    library's own message kept as the detail. An unknown family keeps its class
    name, so nothing is lost."""
    message = _message(exc)
    for family, pattern, sentence in _RULES:
        found = re.search(pattern, message) if family(exc) else None
        if found:
            said = sentence.format(*map(_Group, found.groups()), kind=kind, message=message, exc=exc)
            return f"{said} (detail: {message})" if message else said
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def _message(exc: BaseException) -> str:
    if isinstance(exc, KeyError) and len(exc.args) == 1 and isinstance(exc.args[0], str):
        return exc.args[0]  # str(KeyError) quotes its key
    return str(exc).strip()


def _named(*names: str) -> Callable[[BaseException], bool]:
    """True for an exception whose class (or a base) is one of ``names``, each
    ``module.Class`` or a bare built-in name."""

    def matches(exc: BaseException) -> bool:
        for cls in type(exc).__mro__:
            if cls.__name__ in names or f"{cls.__module__.split('.')[0]}.{cls.__name__}" in names:
                return True
        return False

    return matches


class _Group(str):
    """A group the pattern found: as it is, or as a number with a format spec
    (``{0:,}`` says ``20000`` as ``20,000``)."""

    def __format__(self, spec: str) -> str:
        return format(int(self), spec) if spec else str(self)


_PDF_LIMIT = _named("pypdf.LimitReachedError")
_XML = _named("lxml.XMLSyntaxError", "xml.ParseError", "ParseError")
_KEY = _named("KeyError")
_ANY = ""  # a pattern every message matches

# In order: the first row whose family matches and whose pattern is found in the
# message wins. A sentence is a format string: {0}, {1}... the pattern's groups,
# {kind} what to call the file, {message} the library's message, {exc} the exception.
_RULES: list[tuple[Callable[[BaseException], bool], str, str]] = [
    (_PDF_LIMIT, r"> (\d+) elements", "the PDF's content stream is too large to parse safely (limit {0:,} elements)"),
    (_PDF_LIMIT, r"(?i)cyclic", "the PDF's structure loops back on itself (a cycle): the file is damaged"),
    (_PDF_LIMIT, _ANY, "the PDF goes past a safety limit of its parser: the file is damaged or built to exhaust memory"),
    (_named("PIL.DecompressionBombError"), _ANY, "the {kind} is too large to decode safely (a possible decompression bomb)"),
    (_named("PIL.UnidentifiedImageError"), _ANY, "the {kind} is in a format Pillow cannot read, or damaged"),
    (_XML, r"Excessive depth in document: (\d+)", "its XML is nested too deeply to parse safely (over {0:,} levels): the {kind} is damaged or hostile"),
    (_XML, r"(?i)huge", "its XML holds a part too large to parse safely: the {kind} is damaged or hostile"),
    (_XML, _ANY, "its XML is not well-formed: the {kind} is damaged"),
    (_named("RecursionError"), _ANY, "nested too deeply to be a {kind}"),
    (_named("OverflowError"), _ANY, "the {kind} holds a number too large to use: it is damaged"),
    (_named("MemoryError"), _ANY, "the {kind} needs more memory to decode than there is: it is too large or built to exhaust memory"),
    (_named("zipfile.BadZipFile", "zipfile.LargeZipFile"), _ANY, "the {kind} is not a readable zip archive: it is damaged or truncated"),
    (_named("zlib.error"), _ANY, "compressed data inside the {kind} is damaged"),
    (_named("EOFError", "struct.error", "IncompleteRead"), _ANY, "the {kind} ends early: it is truncated or damaged"),
    (_named("UnicodeDecodeError"), _ANY, "its text is not valid {exc.encoding}: the {kind} is damaged or mislabelled"),
    (_named("UnicodeEncodeError"), _ANY, "its name or text is not valid UTF-8: rename the file, or re-save it as UTF-8"),
    (_named("pypdf.PdfReadError", "pypdf.PdfStreamError"), _ANY, "the PDF is damaged: its structure cannot be read"),
    (_named("pypdfium2.PdfiumError"), _ANY, "the PDF is damaged: pdfium cannot read it"),
    (_KEY, r"no relationship with key '([^']+)'", "the {kind} is missing part {0}: the file is damaged"),
    (_KEY, r"There is no item named '([^']+)' in the archive", "the {kind} is missing its part '{0}': the file is damaged or truncated"),
    (_KEY, _ANY, "the {kind} refers to something it does not hold ({message}): the file is damaged"),
    (_named("ValueError"), r"Decompressed data too large", "the {kind}'s embedded text (a compressed PNG text chunk) inflates past Pillow's safety limit: the file is damaged or hostile"),
]
