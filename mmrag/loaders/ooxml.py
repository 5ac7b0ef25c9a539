"""What a zip-based document is, and whether it is safe to hand to its parser.

``check_package`` runs before python-docx, openpyxl or ebooklib open a file:
a broken zip is a ``CorruptFileError``; ``zipsafe.check_zip`` inflates every
member as a checked stream (zip bombs fail naming the member); and no XML
member may declare entities (``<!ENTITY``: billion laughs or external
entities; OOXML and EPUB never need one: ``UnsafeFileError``). The parsers'
own guards stay on as a second line (python-docx parses with
``resolve_entities=False``, openpyxl through defusedxml). A password-protected
Office file is not a zip but an OLE2 container with an ``EncryptionInfo``
stream: ``EncryptedFileError``.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from mmrag.errors import CorruptFileError, EncryptedFileError, LoaderError, UnsafeFileError
from mmrag.loaders.zipsafe import check_zip, read_member

ZIP_SIGNATURE = b"PK\x03\x04"
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_XML_SUFFIXES = (".xml", ".rels", ".xhtml", ".html", ".htm", ".opf", ".ncx", ".svg", ".vml")
_READ = 1 << 16
_KINDS = {
    "wordprocessingml": ("wordprocessingml", "ms-word"),
    "spreadsheetml": ("spreadsheetml", "ms-excel"),
    "presentationml": ("presentationml", "ms-powerpoint"),
}


def check_package(path: Path, kind: str) -> None:
    """Raise a named ``LoaderError`` unless ``path`` is a zip that is safe to hand
    to a parser of ``kind`` (``"Word document"``, ...)."""
    with path.open("rb") as fh:
        head = fh.read(8)
    if head.startswith(OLE_SIGNATURE):
        raise_ole(path, kind)
    try:
        with zipfile.ZipFile(path):
            pass
    except zipfile.BadZipFile as exc:
        raise CorruptFileError(path, f"corrupt {kind}: not a readable zip archive ({exc})") from exc
    check_zip(path)
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            if info.filename.lower().endswith(_XML_SUFFIXES) and _declares_entities(zf, info):
                raise UnsafeFileError(
                    path,
                    f"refused: part '{info.filename}' declares XML entities (a billion-laughs or "
                    "external-entity attack); a real document never does",
                )


def content_types(path: Path) -> str | None:
    """The text of an OOXML zip's ``[Content_Types].xml`` (None when it has none or is no zip)."""
    try:
        with zipfile.ZipFile(path) as zf:
            data = read_member(zf, "[Content_Types].xml")
    except (zipfile.BadZipFile, OSError, KeyError, LoaderError):
        return None
    return data.decode("utf-8", "replace")


def ooxml_kind(path: Path) -> str | None:
    """``wordprocessingml``, ``spreadsheetml`` or ``presentationml``: what an OOXML zip's
    main part is, by its ``[Content_Types].xml``; None for any other file."""
    types = content_types(path)
    if types is None:
        return None
    # The main part's type decides: a deck with a chart also lists the workbook it embeds.
    for main in re.findall(r'ContentType="([^"]+\.main\+xml)"', types):
        for kind, words in _KINDS.items():
            if any(w in main for w in words):
                return kind
    return None


def claims(head: bytes, path: Path, kind: str, extensions: frozenset[str]) -> bool:
    """Whether an OOXML loader of ``kind`` takes this file: its content says so, or
    its extension does and its content names no other Office kind (``load`` then
    says what is wrong: a password, a broken zip)."""
    if head.startswith(OLE_SIGNATURE):
        return path.suffix.lower() in extensions
    if not head.startswith(ZIP_SIGNATURE):
        return False
    found = ooxml_kind(path)
    return found == kind or (found is None and path.suffix.lower() in extensions)


def raise_ole(path: Path, kind: str) -> None:
    """An OLE2 file named like an OOXML one: password-protected, or the old binary format."""
    marker = "EncryptionInfo".encode("utf-16-le")
    tail = b""
    with path.open("rb") as fh:
        while block := fh.read(_READ):
            if marker in tail + block:
                raise EncryptedFileError(path, f"password-protected {kind}: save it without a password to ingest it")
            tail = block[-len(marker):]
    raise CorruptFileError(path, f"not a {kind} but an old binary Office file (OLE2); save it in the current format")


def _declares_entities(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bool:
    """Whether the member's prolog declares an entity. Only the prolog may, so
    defusedxml parses up to the root element's start tag and stops there."""
    from xml.etree.ElementTree import ParseError

    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import iterparse

    with zf.open(info) as fh:
        try:
            for _ in iterparse(fh, events=("start",), forbid_dtd=False, forbid_entities=True, forbid_external=True):
                return False
        except DefusedXmlException:
            return True
        except (ParseError, ValueError):  # not well-formed: the document's parser says so
            return False
    return False
