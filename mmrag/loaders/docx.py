"""Word documents (.docx) with python-docx: the heading path, paragraphs, list
items, text boxes, tables as rows, pictures (table cells' too) with their alt
text and caption, then footnotes, comments, headers and footers as text of
their own.

A page number is given only where Word stored one: Word writes a
``lastRenderedPageBreak`` where a page began when it last laid the document
out. A file that has none (written by a library, never opened in Word) gets no
page at all rather than an invented one.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from mmrag.errors import CorruptFileError, LoaderError
from mmrag.loaders.base import Loader
from mmrag.loaders.failures import explain
from mmrag.loaders.delimited import column_number
from mmrag.loaders.notes import collect_warnings, note_metadata
from mmrag.loaders.picture_ocr import ocr_pictures
from mmrag.loaders.tables import table_elements, with_cell_pictures
from mmrag.loaders.ooxml import OLE_SIGNATURE, ZIP_SIGNATURE, check_package, claims, ooxml_kind
from mmrag.types import Element, ImageKind, ImageRef, Modality

_WORD = "wordprocessingml"
_HEADING = re.compile(r"^heading (\d)$", re.IGNORECASE)
_LIST_STYLE = re.compile(r"^list", re.IGNORECASE)
_SPACE = re.compile(r"[ \t]+")


def open_document(path: Path):  # -> docx.document.Document
    """The document at ``path`` after the zip checks; every failure a named error."""
    import docx

    check_package(path, "Word document")
    if ooxml_kind(path) != _WORD:
        raise CorruptFileError(path, "not a Word document: the zip declares no document part")
    try:
        return docx.Document(str(path))
    except Exception as exc:  # python-docx/lxml raise KeyError, ValueError, XMLSyntaxError...
        raise CorruptFileError(path, f"corrupt Word document: {explain(exc, 'document')}") from exc


def _heading_level(paragraph) -> int | None:
    """1-9 for a heading (its style or one it is based on is "Heading N"), 0 for
    "Title", else None."""
    style = paragraph.style
    for _ in range(4):
        if style is None:
            return None
        name = style.name or ""
        if name.lower() == "title":
            return 0
        m = _HEADING.match(name)
        if m:
            return int(m.group(1))
        style = style.base_style
    return None


def _style_name(paragraph) -> str:
    return (paragraph.style.name if paragraph.style is not None else "") or ""


def _is_list_item(paragraph) -> bool:
    p_pr = paragraph._p.pPr  # python-docx has no public "is numbered" API
    return (p_pr is not None and p_pr.numPr is not None) or bool(_LIST_STYLE.match(_style_name(paragraph)))


def _text_boxes(element) -> list[str]:
    """Text of the text boxes anchored in ``element`` (once: Word stores each box
    twice, as DrawingML and as a VML fallback)."""
    seen: list[str] = []
    for box in element.xpath(".//w:txbxContent"):
        text = "\n".join("".join(p.xpath(".//w:t/text()")) for p in box.xpath("./w:p")).strip()
        if text and text not in seen:
            seen.append(text)
    return seen


def _pictures(paragraph) -> list[tuple[str, str | None]]:
    """(alt text, relationship id of the image) of each picture in the paragraph."""
    out = []
    for drawing in paragraph._p.xpath(".//w:drawing"):
        doc_pr = drawing.xpath(".//wp:docPr")
        alt = " ".join(filter(None, ((doc_pr[0].get("descr") or "").strip(), (doc_pr[0].get("title") or "").strip()))) if doc_pr else ""
        blips = drawing.xpath(".//a:blip/@r:embed")
        out.append((alt, blips[0] if blips else None))
    return out


def document_pictures(doc) -> list[tuple[str, str | None]]:
    """Every picture in the order ``ImageRef.index`` counts: the body's paragraphs'
    in document order, then those in table cells, table by table (counted after
    the body's, so a body picture keeps the index it had before cells were read)."""
    from docx.text.paragraph import Paragraph

    body = [pic for p in doc.element.body.xpath("./w:p[.//w:drawing]") for pic in _pictures(Paragraph(p, doc))]
    return body + [pic for table in doc.element.body.xpath("./w:tbl") for _, pic in _cell_pictures(table, doc)]


def _cell_pictures(table, doc) -> list[tuple[int, tuple[str, str | None]]]:
    """(1-based row, (alt text, relationship id)) of each picture in a body table's
    cells, nested tables included, in document order."""
    from docx.text.paragraph import Paragraph

    rows = table.xpath("./w:tr")
    out = []
    for p in table.xpath(".//w:p[.//w:drawing][not(ancestor::w:p)]"):
        row = rows.index(p.xpath("ancestor::w:tr")[0]) + 1  # the outermost row: the one this table's rows count
        out.extend((row, pic) for pic in _pictures(Paragraph(p, doc)))
    return out


def docx_picture_bytes(path: Path, index: int) -> bytes:
    """The bytes of the ``index``-th (0-based) picture of the document."""
    doc = open_document(path)
    pictures = document_pictures(doc)
    if not 0 <= index < len(pictures):
        raise LoaderError(path, f"the document has {len(pictures)} pictures; no picture #{index}")
    blob = _blob(doc, pictures[index][1])
    if blob is None:
        raise LoaderError(path, f"picture #{index} is linked, not embedded: no bytes to read")
    return blob


def _blob(doc, rid: str | None) -> bytes | None:
    """The bytes of the image part ``rid`` names; None for a linked picture."""
    return doc.part.related_parts[rid].blob if rid is not None and rid in doc.part.related_parts else None


def _picture(doc, alt: str, rid: str | None, index: int, meta: dict[str, Any], source: str, **where: Any) -> Element:
    """The IMAGE element of the document's ``index``-th picture (its digest makes an edited picture a new chunk)."""
    blob = _blob(doc, rid)
    extra = {"sha1": hashlib.sha1(blob).hexdigest()} if blob is not None else {}
    return Element(modality=Modality.IMAGE, text=alt, metadata={**meta, "alt_text": alt, **extra},
                   source=source, image=ImageRef(source=source, kind=ImageKind.EMBEDDED, index=index), **where)


def _part_texts(doc, name: str, tag: str) -> list[str]:
    """Texts of the ``w:<tag>`` entries of part ``name`` (footnotes, endnotes);
    ids below 1 are Word's separator entries."""
    from docx.oxml.parser import parse_xml

    part = next((p for p in doc.part.package.iter_parts() if str(p.partname) == name), None)
    if part is None:
        return []
    root = parse_xml(part.blob)
    ns = {"w": "http://schemas.openxmlformats.org/wordprocessingml/2006/main"}
    out = []
    for entry in root.findall(f"w:{tag}", ns):
        if int(entry.get(f"{{{ns['w']}}}id", "0")) < 1:
            continue
        text = "\n".join("".join(p.itertext()).strip() for p in entry.findall(".//w:p", ns)).strip()
        if text:
            out.append(text)
    return out


@dataclass
class DocxLoader(Loader):
    """Elements in reading order under their heading path (``title_path``).

    Example::

        elements = list(DocxLoader().load(Path("plan.docx"), "plan.docx"))

    Tables are row elements (``row_start``/``row_end`` the row in its table,
    ``metadata["table"]`` which table); a picture is an IMAGE element whose text
    is its alt text and the caption paragraph that follows it; a picture in a
    table cell follows its table's rows, with its row's text and
    ``metadata["table_row"]``. Footnotes,
    endnotes, comments, and header/footer text come last, each under a title of
    its own ("Footnotes", ...). With ``ocr`` (and the ``ocr`` extra) a picture's
    text is read too (``picture_ocr``).
    """

    ocr: bool = True

    name = "docx"
    extensions = frozenset({".docx", ".docm"})
    signatures = (ZIP_SIGNATURE, OLE_SIGNATURE)

    def sniff(self, head: bytes, path: Path) -> bool:
        return claims(head, path, _WORD, self.extensions)

    def picture_bytes(self, path: Path, index: int) -> bytes:
        """The bytes behind ``ImageRef(index=...)`` (see ``image_refs.document_picture``)."""
        return docx_picture_bytes(path, index)

    def load(self, path: Path, source: str) -> Iterator[Element]:
        notes: list[str] = []
        with collect_warnings(notes):
            doc = open_document(path)
        try:
            body = self._body(doc, path, source, notes)
            if self.ocr:
                pictures = document_pictures(doc)
                body = ocr_pictures(body, lambda ref: _blob(doc, pictures[ref.index][1]),
                                    lambda ref: f"{path} (picture #{ref.index})")
            yield from body
            yield from self._extras(doc, source, notes)
        except LoaderError:
            raise
        except Exception as exc:  # a broken part found while reading
            raise CorruptFileError(path, f"corrupt Word document: {explain(exc, 'document')}") from exc

    def _body(self, doc, path: Path, source: str, notes: list[str]) -> Iterator[Element]:
        from docx.table import Table

        title = (doc.core_properties.title or "").strip() or path.name
        paged = bool(doc.element.body.xpath(".//w:lastRenderedPageBreak"))
        page = 1 if paged else None
        chain: list[tuple[int, str]] = []
        meta: dict[str, Any] = {"document_title": title, **note_metadata(notes)}
        pending: list[Element] = []  # pictures waiting to see if a caption follows
        picture_index = table_index = 0
        cell_index = len(doc.element.body.xpath("./w:p//w:drawing"))  # cell pictures count after the body's

        def path_now() -> tuple[str, ...]:
            return tuple(t for _, t in chain)

        for block in doc.iter_inner_content():
            if isinstance(block, Table):
                yield from pending
                pending = []
                table_index += 1
                pictures = [
                    (row, _picture(doc, alt, rid, cell_index + n, {**meta, "table": table_index}, page=page,
                                   source=source, title_path=path_now()))
                    for n, (row, (alt, rid)) in enumerate(_cell_pictures(block._tbl, doc))
                ]
                cell_index += len(pictures)
                yield from with_cell_pictures(self._table(block, table_index, source, path_now(), page, meta), pictures)
                continue
            if paged:
                page = (page or 1) + len(block.rendered_page_breaks)
            text = _SPACE.sub(" ", block.text).strip()
            style = _style_name(block)
            is_caption = style.lower() == "caption"
            if pending:
                if is_caption and text:
                    pending = [_captioned(e, text) for e in pending]
                yield from pending
                pending = []
            level = _heading_level(block)
            if level is not None and text:
                chain = [(lv, t) for lv, t in chain if lv < level] + [(level, text)]
                yield Element(source=source, modality=Modality.TEXT, text=text, page=page, title_path=path_now(),
                              metadata={**meta, "role": "heading"})
                continue
            common = {"source": source, "page": page, "title_path": path_now()}
            if text:
                role = "caption" if is_caption else "list_item" if _is_list_item(block) else "body"
                shown = f"• {text}" if role == "list_item" else text
                yield Element(modality=Modality.TEXT, text=shown, metadata={**meta, "role": role}, **common)
            for box in _text_boxes(block._p):
                yield Element(modality=Modality.TEXT, text=box, metadata={**meta, "role": "text_box"}, **common)
            for alt, rid in _pictures(block):
                pending.append(_picture(doc, alt, rid, picture_index, meta, **common))
                picture_index += 1
        yield from pending

    def _table(self, table, number: int, source: str, title_path: tuple[str, ...], page: int | None,
               meta: dict[str, Any]) -> Iterator[Element]:
        def rows() -> Iterator[tuple[int, list[str]]]:
            for r, row in enumerate(table.rows, start=1):
                cells, last = [], None
                for cell in row.cells:  # a merged cell comes back once per column it spans
                    if cell._tc is not last:
                        cells.append(_all_text(cell._tc))
                    last = cell._tc
                yield r, cells

        yield from table_elements(rows(), source=source, name=column_number, title_path=title_path, page=page,
                                  metadata={**meta, "table": number})

    def _extras(self, doc, source: str, notes: list[str]) -> Iterator[Element]:
        meta = {"document_title": (doc.core_properties.title or "").strip() or Path(source).name, **note_metadata(notes)}
        groups: list[tuple[str, str, list[str]]] = [
            ("Footnotes", "footnote", _part_texts(doc, "/word/footnotes.xml", "footnote")),
            ("Endnotes", "endnote", _part_texts(doc, "/word/endnotes.xml", "endnote")),
            ("Comments", "comment", [
                f"{c.author}: {c.text.strip()}" if c.author else c.text.strip() for c in doc.comments if c.text.strip()
            ]),
            ("Headers and footers", "header_footer", _headers_footers(doc)),
        ]
        for title, role, texts in groups:
            for text in texts:
                yield Element(source=source, modality=Modality.TEXT, text=text, title_path=(title,),
                              metadata={**meta, "role": role})


def _headers_footers(doc) -> list[str]:
    """Distinct header and footer texts of all sections (a page number field alone is skipped)."""
    seen: list[str] = []
    for section in doc.sections:
        for part in (section.header, section.footer, section.first_page_header, section.first_page_footer,
                     section.even_page_header, section.even_page_footer):
            if part.is_linked_to_previous:
                continue
            text = _all_text(part._element)
            if text and not text.isdigit() and text not in seen:
                seen.append(text)
    return seen


def _all_text(element) -> str:
    """Every paragraph's text under ``element``, nested tables included (python-docx's
    ``cell.text`` and ``paragraphs`` stop at a nested table)."""
    lines = ("".join(p.xpath(".//w:t/text()")).strip() for p in element.xpath(".//w:p"))
    return "\n".join(line for line in lines if line)


def _captioned(image: Element, caption: str) -> Element:
    text = "\n".join(t for t in (image.text, caption) if t)
    return replace(image, text=text, metadata={**image.metadata, "caption": caption})
