"""Which text encoding a file is in: UTF-8 (or a BOM) when it decodes so, else
charset-normalizer's best guess from a sample; no guess is a named error."""

from __future__ import annotations

import codecs
from pathlib import Path

from mmrag.errors import UnknownEncodingError

SAMPLE_BYTES = 1 << 16
_CP1252_MARGIN = 0.2  # chaos (charset-normalizer's 0-1 mess score) cp1252 may have over the best
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def detect_encoding(path: Path, sample: bytes, declared: str | None = None) -> tuple[str, str | None]:
    """The encoding of a file that starts with ``sample`` and, when it is not UTF-8,
    a note saying how it was found. ``declared`` (an HTML ``charset``) is used when
    the sample decodes with it."""
    for bom, name in _BOMS:
        if sample.startswith(bom):
            return name, None
    if _decodes(sample, "utf-8"):
        return "utf-8", None
    if declared and _decodes(sample, declared):
        return declared, None
    from charset_normalizer import from_bytes

    matches = list(from_bytes(sample))
    if not matches:
        raise UnknownEncodingError(path, "unknown text encoding (not UTF-8, and no encoding fits); re-save it as UTF-8")
    # On short samples charset-normalizer ranks neighbouring Latin code pages by
    # tiny margins (French read as Baltic cp1257); cp1252, by far the most common
    # legacy encoding, wins when it is nearly as clean as the best.
    best = matches[0]
    chosen = next((m for m in matches if m.encoding == "cp1252" and m.chaos <= best.chaos + _CP1252_MARGIN), best)
    return chosen.encoding, f"not UTF-8; read as {chosen.encoding} (detected)"


def _decodes(sample: bytes, encoding: str) -> bool:
    """Whether ``sample`` decodes, allowing a character cut off at its end."""
    try:
        decoder = codecs.getincrementaldecoder(encoding)()
    except LookupError:
        return False
    try:
        decoder.decode(sample, final=False)
    except UnicodeDecodeError:
        return False
    return True
