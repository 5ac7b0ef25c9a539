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
    for family, sentence in _RULES:
        if family(exc):
            said = sentence(exc, message, kind)
            if said is not None:
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


def _number(value: str) -> str:
    return f"{int(value):,}"


def _pdf_limit(exc: BaseException, message: str, kind: str) -> str:
    found = re.search(r"> (\d+) elements", message)
    if found:
        return f"the PDF's content stream is too large to parse safely (limit {_number(found[1])} elements)"
    if "cyclic" in message.lower():
        return "the PDF's structure loops back on itself (a cycle): the file is damaged"
    return "the PDF goes past a safety limit of its parser: the file is damaged or built to exhaust memory"


def _key(exc: BaseException, message: str, kind: str) -> str:
    rel = re.search(r"no relationship with key '([^']+)'", message)
    if rel:
        return f"the {kind} is missing part {rel[1]}: the file is damaged"
    member = re.search(r"There is no item named '([^']+)' in the archive", message)
    if member:
        return f"the {kind} is missing its part '{member[1]}': the file is damaged or truncated"
    return f"the {kind} refers to something it does not hold ({message}): the file is damaged"


def _xml(exc: BaseException, message: str, kind: str) -> str:
    depth = re.search(r"Excessive depth in document: (\d+)", message)
    if depth:
        return f"its XML is nested too deeply to parse safely (over {_number(depth[1])} levels): the {kind} is damaged or hostile"
    if "huge" in message.lower():
        return f"its XML holds a part too large to parse safely: the {kind} is damaged or hostile"
    return f"its XML is not well-formed: the {kind} is damaged"


def _png_text(exc: BaseException, message: str, kind: str) -> str | None:
    if "Decompressed data too large" not in message:
        return None
    return f"the {kind}'s embedded text (a compressed PNG text chunk) inflates past Pillow's safety limit: the file is damaged or hostile"


def _unicode_decode(exc: BaseException, message: str, kind: str) -> str:
    encoding = getattr(exc, "encoding", "its encoding")
    return f"its text is not valid {encoding}: the {kind} is damaged or mislabelled"


# In order: the first family that matches (and says something) wins.
_RULES: list[tuple[Callable[[BaseException], bool], Callable[[BaseException, str, str], str | None]]] = [
    (_named("pypdf.LimitReachedError"), _pdf_limit),
    (_named("PIL.DecompressionBombError"), lambda e, m, k: f"the {k} is too large to decode safely (a possible decompression bomb)"),
    (_named("PIL.UnidentifiedImageError"), lambda e, m, k: f"the {k} is in a format Pillow cannot read, or damaged"),
    (_named("lxml.XMLSyntaxError", "xml.ParseError", "ParseError"), _xml),
    (_named("RecursionError"), lambda e, m, k: f"nested too deeply to be a {k}"),
    (_named("OverflowError"), lambda e, m, k: f"the {k} holds a number too large to use: it is damaged"),
    (_named("MemoryError"), lambda e, m, k: f"the {k} needs more memory to decode than there is: it is too large or built to exhaust memory"),
    (_named("zipfile.BadZipFile", "zipfile.LargeZipFile"), lambda e, m, k: f"the {k} is not a readable zip archive: it is damaged or truncated"),
    (_named("zlib.error"), lambda e, m, k: f"compressed data inside the {k} is damaged"),
    (_named("EOFError", "struct.error", "IncompleteRead"), lambda e, m, k: f"the {k} ends early: it is truncated or damaged"),
    (_named("UnicodeDecodeError"), _unicode_decode),
    (_named("UnicodeEncodeError"), lambda e, m, k: "its name or text is not valid UTF-8: rename the file, or re-save it as UTF-8"),
    (_named("pypdf.PdfReadError", "pypdf.PdfStreamError"), lambda e, m, k: "the PDF is damaged: its structure cannot be read"),
    (_named("pypdfium2.PdfiumError"), lambda e, m, k: "the PDF is damaged: pdfium cannot read it"),
    (_named("KeyError"), _key),
    (_named("ValueError"), _png_text),
]
