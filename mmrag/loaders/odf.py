"""OpenDocument files (LibreOffice's own formats) with odfpy: text documents (.odt)
with their heading path, paragraphs, lists and tables; spreadsheets (.ods) one
unit per sheet, rows as "column: value" (cached values, repeated empty rows and
cells skipped, never expanded); presentations (.odp) one unit per slide with its
pictures and speaker notes. Pictures, in the body, in table cells and on
slides, are IMAGE elements. The zip checks of the Office loaders run first; a
password-protected file (its manifest declares encryption) is a named error."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from mmrag.errors import CorruptFileError, EncryptedFileError, LoaderError
from mmrag.loaders.base import Loader
from mmrag.loaders.failures import explain
from mmrag.loaders.ooxml import ZIP_SIGNATURE, check_package
from mmrag.loaders.picture_ocr import ocr_pictures
from mmrag.loaders.spreadsheet import column_letter
from mmrag.loaders.tables import table_elements, with_cell_pictures
from mmrag.loaders.zipsafe import read_member
from mmrag.types import Element, ImageKind, ImageRef, Modality

_MIME = b"application/vnd.oasis.opendocument."
KINDS = {".odt": "text", ".ods": "spreadsheet", ".odp": "presentation"}
MAX_REPEAT = 10_000  # a repeated row or cell that holds a value is read at most this many times
_PICTURE_HOLDERS = ("h", "p", "list", "section")  # the body nodes whose picture frames are read


def _kind(path: Path) -> str:
    with zipfile.ZipFile(path) as zf:
        try:
            mime = read_member(zf, "mimetype").decode("ascii", "replace").strip()
            manifest = read_member(zf, "META-INF/manifest.xml")
        except KeyError as exc:
            raise CorruptFileError(path, f"not an OpenDocument file: {exc.args[0] if exc.args else exc}") from None
    if b"encryption-data" in manifest:
        raise EncryptedFileError(path, "password-protected OpenDocument file: save it without a password to read it")
    kind = mime.rsplit(".", 1)[-1]
    if kind not in KINDS.values():
        raise CorruptFileError(path, f"unsupported OpenDocument type {mime!r} (text, spreadsheet and presentation are read)")
    return kind


def _text(node: Any) -> str:
    from odf import teletype

    return " ".join(teletype.extractText(node).split())


def _tag(node: Any) -> str:
    return str(getattr(node, "qname", ("", ""))[1])


def _attr(node: Any, name: str) -> str | None:
    for (_, local), value in getattr(node, "attributes", {}).items():
        if local == name:
            return str(value)
    return None


def _rows(table: Any) -> Iterator[tuple[int, list[Any]]]:
    """(1-based row number, cell values) of a table, repeats counted for numbering;
    a repeated empty row or cell is skipped, not expanded (a sheet's tail repeats
    an empty row a million times)."""
    number = 0
    for row in table.getElementsByType(_table_row()):
        repeat = int(_attr(row, "number-rows-repeated") or 1)
        cells: list[Any] = []
        for cell in row.childNodes:
            if _tag(cell) not in ("table-cell", "covered-table-cell"):
                continue
            times = int(_attr(cell, "number-columns-repeated") or 1)
            value = _attr(cell, "value") or _attr(cell, "date-value") or _attr(cell, "boolean-value") or _text(cell)
            cells.extend([value or None] * (min(times, MAX_REPEAT) if value else (1 if times == 1 else 0)))
        if any(cells):
            for i in range(min(repeat, MAX_REPEAT)):
                yield number + i + 1, cells
        number += repeat


def _table_row() -> Any:
    from odf.table import TableRow

    return TableRow


@dataclass
class OdfLoader(Loader):
    """OpenDocument text, spreadsheet and presentation files.

    Example::

        elements = list(OdfLoader().load(Path("minutes.odt"), "minutes.odt"))

    Pictures are IMAGE elements (alt text from the frame's title and
    description): a text document's under their heading path, a table cell's
    after its table's rows with its row's text (``tables.with_cell_pictures``),
    a slide's on its slide. With ``ocr`` (and the ``ocr`` extra) the text in
    them is read too.
    """

    ocr: bool = True

    name = "odf"
    extensions = frozenset(KINDS)
    signatures = (ZIP_SIGNATURE,)

    def sniff(self, head: bytes, path: Path) -> bool:
        """ODF's first member is ``mimetype`` holding ``application/vnd.oasis.opendocument.*``;
        a zip re-packed by another tool (the member moved) is taken by its extension."""
        if not head.startswith(ZIP_SIGNATURE):
            return False
        return head[30:38] == b"mimetype" and _MIME in head[38:300] or path.suffix.lower() in self.extensions

    def load(self, path: Path, source: str) -> Iterator[Element]:
        from odf.opendocument import load as odf_load

        check_package(path, "OpenDocument file")
        kind = _kind(path)
        try:
            doc = odf_load(str(path))
        except Exception as exc:  # odfpy raises sax, KeyError, zip errors for broken parts
            raise CorruptFileError(path, f"corrupt OpenDocument file: {explain(exc, 'document')}") from exc
        if kind == "spreadsheet":
            from odf.table import Table

            for table in doc.spreadsheet.getElementsByType(Table):
                name = _attr(table, "name") or "Sheet"
                yield from table_elements(_rows(table), source=source, name=column_letter, sheet=name)
            return
        elements = self._text_document(doc.text, source) if kind == "text" else self._slides(doc.presentation, source)
        if self.ocr:
            hrefs = [href for _, href in pictures_of(doc, kind)]
            elements = ocr_pictures(elements, lambda ref: _picture_data(path, hrefs[ref.index]),
                                    lambda ref: f"{path} (picture '{hrefs[ref.index]}')")
        yield from elements

    def picture_bytes(self, path: Path, index: int) -> bytes:
        """The bytes behind ``ImageRef(index=...)`` of a text document or a presentation
        (see ``image_refs.document_picture``)."""
        from odf.opendocument import load as odf_load

        check_package(path, "OpenDocument file")
        hrefs = [href for _, href in pictures_of(odf_load(str(path)), _kind(path))]
        data = _picture_data(path, hrefs[index]) if 0 <= index < len(hrefs) else None
        if data is None:
            raise LoaderError(path, f"the document has {len(hrefs)} pictures; no embedded picture #{index}")
        return data

    def _text_document(self, body: Any, source: str) -> Iterator[Element]:
        path: list[tuple[int, str]] = []
        tables = 0
        pictures = 0
        in_cells = sum(len(_frames(n)) for n in body.childNodes)  # cell pictures count after the body's
        for node in body.childNodes:
            tag = _tag(node)
            title = tuple(t for _, t in path)
            if tag == "h":
                text = _text(node)
                if text:
                    level = int(_attr(node, "outline-level") or 1)
                    path = [(lv, t) for lv, t in path if lv < level] + [(level, text)]
                    yield Element(source=source, modality=Modality.TEXT, text=text, title_path=tuple(t for _, t in path),
                                  metadata={"role": "heading"})
            elif tag == "table":
                tables += 1
                meta = {"table": tables}
                cells = [(row, _picture(source, alt, in_cells + n, title_path=title, metadata=meta))
                         for n, (row, alt, _) in enumerate(_cell_frames(node))]
                in_cells += len(cells)
                rows = table_elements(_rows(node), source=source, name=lambda i: f"column {i + 1}", title_path=title,
                                      metadata=meta)
                yield from with_cell_pictures(rows, cells)
            elif tag in ("p", "list", "section"):
                text = _text(node) if tag != "list" else "\n".join(f"• {_text(i)}" for i in _items(node) if _text(i))
                if text:
                    yield Element(source=source, modality=Modality.TEXT, text=text, title_path=title)
            for alt, _ in _frames(node):
                yield _picture(source, alt, pictures, title_path=tuple(t for _, t in path))
                pictures += 1

    def _slides(self, body: Any, source: str) -> Iterator[Element]:
        """A slide's text, then its pictures (alt text from the frame's title and
        description, counted across the deck), then its notes: one container, so
        each picture links to the slide's text."""
        pictures = 0
        for number, page in enumerate(_pages(body), start=1):
            title, texts, notes = "", [], []
            for frame in page.childNodes:
                target = notes if _tag(frame) == "notes" else texts
                text = "\n".join(_text(p) for p in _paragraphs(frame) if _text(p))
                if text and not title and _attr(frame, "class") == "title":
                    title = text.splitlines()[0]
                if text:
                    target.append(text)
            where = {"slide": number, "title_path": (title,) if title else ()}
            for text in texts:
                yield Element(source=source, modality=Modality.TEXT, text=text, metadata={"role": "body"}, **where)
            for alt, _ in _slide_frames(page):
                yield _picture(source, alt, pictures, **where)
                pictures += 1
            for text in notes:
                yield Element(source=source, modality=Modality.TEXT, text=text, metadata={"role": "notes"}, **where)


def _picture(source: str, alt: str, index: int, *, metadata: dict[str, Any] | None = None, **where: Any) -> Element:
    """The IMAGE element of the file's ``index``-th picture (see ``pictures_of``)."""
    return Element(source=source, modality=Modality.IMAGE, text=alt, metadata={**(metadata or {}), "alt_text": alt},
                   image=ImageRef(source=source, kind=ImageKind.EMBEDDED, index=index), **where)


def _pages(body: Any) -> Iterator[Any]:
    return (n for n in body.childNodes if _tag(n) == "page")


def _frames(node: Any) -> list[tuple[str, str]]:
    """(alt text, image href) of each picture frame under a body node, in document order."""
    return _pictures_under(node) if _tag(node) in _PICTURE_HOLDERS else []


def _pictures_under(node: Any) -> list[tuple[str, str]]:
    """(alt text, href) of each picture at or below ``node``; the alt text is its frame's title and description."""
    from odf.draw import Image

    return [_picture_of(image) for image in node.getElementsByType(Image)]


def _picture_of(image: Any) -> tuple[str, str]:
    frame = image.parentNode
    alt = " ".join(_text(c) for c in getattr(frame, "childNodes", []) if _tag(c) in ("title", "desc") and _text(c))
    return alt, _attr(image, "href") or ""


def _cell_frames(table: Any) -> list[tuple[int, str, str]]:
    """(row number as ``_rows`` counts it, alt text, href) of each picture in a table's cells."""
    from odf.draw import Image

    numbers: dict[int, int] = {}
    number = 0
    for row in table.getElementsByType(_table_row()):
        numbers[id(row)] = number + 1
        number += int(_attr(row, "number-rows-repeated") or 1)
    out = []
    for image in table.getElementsByType(Image):
        row, node = None, image.parentNode
        while node is not None and node is not table:  # the outermost row below the table: the one it numbers
            row = node if _tag(node) == "table-row" else row
            node = node.parentNode
        if row is not None:
            out.append((numbers[id(row)], *_picture_of(image)))
    return out


def _slide_frames(page: Any) -> list[tuple[str, str]]:
    """The pictures on a slide, not those of its notes page."""
    return [pic for node in page.childNodes if _tag(node) != "notes" for pic in _pictures_under(node)]


def pictures_of(doc: Any, kind: str) -> list[tuple[str, str]]:
    """Every picture of a text document or presentation in the order ``ImageRef.index``
    counts: a text document's body, then its table cells; a deck's slides in order."""
    if kind == "presentation":
        return [pic for page in _pages(doc.presentation) for pic in _slide_frames(page)]
    body = doc.text.childNodes
    return [pic for node in body for pic in _frames(node)] + [
        (alt, href) for node in body if _tag(node) == "table" for _, alt, href in _cell_frames(node)
    ]


def _picture_data(path: Path, href: str) -> bytes | None:
    """A picture's bytes from the package (a bounded read); None for a linked one."""
    if not href or urlparse(href).scheme or href.startswith(("/", "..")):
        return None
    with zipfile.ZipFile(path) as zf:
        return read_member(zf, unquote(href.removeprefix("./")))


def _items(node: Any) -> Iterator[Any]:
    for child in node.childNodes:
        if _tag(child) == "list-item":
            yield child


def _paragraphs(node: Any) -> Iterator[Any]:
    """The text paragraphs under a frame or notes, in order (nested frames included)."""
    for child in getattr(node, "childNodes", []):
        if _tag(child) in ("p", "h"):
            yield child
        else:
            yield from _paragraphs(child)
