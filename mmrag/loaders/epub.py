"""E-books (.epub) with ebooklib: chapters in spine order, each read like a web
page (``html``) under the chapter's title from the table of contents, with its
pictures as image elements."""

from __future__ import annotations

import posixpath
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from mmrag.errors import CorruptFileError, LoaderError
from mmrag.loaders.base import Loader
from mmrag.loaders.failures import explain
from mmrag.loaders.html import data_uri_bytes, html_elements, inline_pictures, parse_html
from mmrag.loaders.ooxml import ZIP_SIGNATURE, check_package
from mmrag.loaders.picture_ocr import ocr_pictures
from mmrag.loaders.zipsafe import read_member
from mmrag.types import Element, ImageKind, ImageRef

_MIMETYPE = b"mimetypeapplication/epub+zip"


def open_book(path: Path):  # -> ebooklib.epub.EpubBook
    """The book after the zip checks; every failure a named error. A manifest whose
    hrefs carry a ``#fragment`` (SiSU writes them, in Debian's own manuals) is read
    from a copy with the fragments dropped (``repair_manifest``); the book then
    carries a ``mmrag_note`` saying so."""
    import warnings

    from ebooklib import epub

    check_package(path, "EPUB e-book")

    def read(file: Path):
        with warnings.catch_warnings():  # ebooklib warns about its own future defaults on every read
            warnings.simplefilter("ignore")
            return epub.read_epub(str(file), options={"ignore_ncx": True})

    try:
        try:
            return read(path)
        except KeyError as exc:
            if "#" not in str(exc):
                raise
        with tempfile.TemporaryDirectory(prefix="mmrag-epub-") as tmp:
            fixed, repaired = repair_manifest(path, Path(tmp) / "book.epub")
            if not repaired:
                raise CorruptFileError(path, "corrupt EPUB e-book: a manifest item names a missing file")
            book = read(fixed)  # ebooklib reads every item into memory: the copy can go
        book.mmrag_note = f"{repaired} manifest href(s) with a '#fragment' read as their file"
        return book
    except LoaderError:
        raise
    except Exception as exc:  # ebooklib raises EpubException, KeyError, lxml errors...
        raise CorruptFileError(path, f"corrupt EPUB e-book: {explain(exc, 'e-book')}") from exc


def repair_manifest(path: Path, out: Path) -> tuple[Path, int]:
    """A copy of the book at ``out`` whose manifest hrefs lose their ``#fragment``:
    an item that then names another item's file is dropped and the spine points at
    that item (each chapter read once). Returns the copy and how many hrefs changed."""
    from lxml import etree

    with zipfile.ZipFile(path) as zf:
        opf_name = next((n for n in zf.namelist() if n.endswith(".opf")), None)
        if opf_name is None:
            return out, 0
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
        opf = etree.fromstring(read_member(zf, opf_name), parser)
        ns = {"opf": opf.nsmap.get(None) or "http://www.idpf.org/2007/opf"}
        by_href: dict[str, str] = {}
        moved: dict[str, str] = {}
        repaired = 0
        for item in opf.findall(".//opf:manifest/opf:item", ns):
            href = item.get("href") or ""
            base = href.split("#", 1)[0]
            if base != href:
                repaired += 1
            if base in by_href:
                moved[item.get("id") or ""] = by_href[base]
                item.getparent().remove(item)
                continue
            by_href[base] = item.get("id") or ""
            item.set("href", base)
        seen: set[str] = set()
        for ref in opf.findall(".//opf:spine/opf:itemref", ns):
            idref = moved.get(ref.get("idref") or "", ref.get("idref") or "")
            if idref in seen:
                ref.getparent().remove(ref)
                continue
            seen.add(idref)
            ref.set("idref", idref)
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
            for info in zf.infolist():
                data = etree.tostring(opf, xml_declaration=True, encoding="utf-8") if info.filename == opf_name else read_member(zf, info)
                dst.writestr(info.filename, data, zipfile.ZIP_STORED if info.filename == "mimetype" else zipfile.ZIP_DEFLATED)
    return out, repaired


def book_images(book) -> list[Any]:
    """The book's image items in manifest order: the order ``ImageRef.index`` counts."""
    import ebooklib

    return [item for item in book.get_items() if item.get_type() in (ebooklib.ITEM_IMAGE, ebooklib.ITEM_COVER)]


def _toc_titles(book) -> dict[str, str]:
    """Chapter file -> its title in the table of contents (first entry wins)."""
    out: dict[str, str] = {}

    def visit(entries) -> None:
        for entry in entries:
            if isinstance(entry, tuple):
                section, children = entry
                visit([section, *children] if hasattr(section, "href") else children)
                continue
            href = getattr(entry, "href", None)
            if href:
                out.setdefault(unquote(href.split("#", 1)[0]), (entry.title or "").strip())

    visit(book.toc)
    return out


class BookPictures:
    """The pictures ``ImageRef.index`` counts in a book: its image items in manifest
    order, then the distinct inline ``data:image`` pictures of its chapters in spine
    order, each numbered when ``chapters`` first parses its chapter."""

    def __init__(self, book: Any) -> None:
        self.book = book
        self.images = book_images(book)
        self.uris: dict[str, int] = {}  # data URI -> its index

    def chapters(self, path: Path) -> Iterator[tuple[int, Any, Any]]:
        """(1-based spine position, item, parsed tree) of each chapter in spine order."""
        for number, (idref, _linear) in enumerate(self.book.spine, start=1):
            item = self.book.get_item_with_id(idref)
            if item is None:
                continue
            try:
                root = parse_html(item.get_content(), "utf-8")
            except Exception as exc:
                raise CorruptFileError(path, f"corrupt EPUB chapter '{item.file_name}': {exc}") from exc
            for uri in inline_pictures(root):
                self.uris.setdefault(uri, len(self.images) + len(self.uris))
            yield number, item, root

    def data(self, index: int) -> bytes | None:
        if 0 <= index < len(self.images):
            return self.images[index].get_content()
        uri = next((u for u, n in self.uris.items() if n == index), None)
        return None if uri is None else data_uri_bytes(uri)

    def name(self, index: int) -> str:
        """How errors name picture ``index``."""
        return f"picture '{self.images[index].file_name}'" if index < len(self.images) else f"inline picture #{index}"


@dataclass
class EpubLoader(Loader):
    """Elements chapter by chapter; a chapter's TOC title heads its title path.

    Example::

        elements = list(EpubLoader().load(Path("book.epub"), "book.epub"))

    A picture is an image file of the book or an inline ``data:image`` one
    (``BookPictures``). With ``ocr`` (and the ``ocr`` extra) the text in the
    book's pictures is read too.
    """

    ocr: bool = True

    name = "epub"
    extensions = frozenset({".epub"})
    signatures = (ZIP_SIGNATURE,)

    def sniff(self, head: bytes, path: Path) -> bool:
        """The EPUB's first member is ``mimetype`` holding ``application/epub+zip``."""
        if not head.startswith(ZIP_SIGNATURE):
            return False
        return _MIMETYPE in head[30:100] or path.suffix.lower() in self.extensions

    def picture_bytes(self, path: Path, index: int) -> bytes:
        pictures = BookPictures(open_book(path))
        if index >= len(pictures.images):  # an inline picture: its chapters are read up to it
            for _ in pictures.chapters(path):
                if index < len(pictures.images) + len(pictures.uris):
                    break
        data = pictures.data(index)
        if data is None:
            raise LoaderError(path, f"the book has {len(pictures.images) + len(pictures.uris)} pictures; no picture #{index}")
        return data

    def load(self, path: Path, source: str) -> Iterator[Element]:
        pictures = BookPictures(open_book(path))
        elements = self._chapters(pictures, path, source)
        if self.ocr:
            elements = ocr_pictures(elements, lambda ref: pictures.data(ref.index), lambda ref: f"{path} ({pictures.name(ref.index)})")
        yield from elements

    def _chapters(self, pictures: BookPictures, path: Path, source: str) -> Iterator[Element]:
        book = pictures.book
        titles = _toc_titles(book)
        by_name = {item.file_name: n for n, item in enumerate(pictures.images)}
        meta_title = book.get_metadata("DC", "title")
        doc_title = (meta_title[0][0] if meta_title else "").strip() or path.name
        for number, item, root in pictures.chapters(path):
            chapter = titles.get(item.file_name, "")
            here = posixpath.dirname(item.file_name)

            def resolve(src: str, here: str = here) -> ImageRef | None:
                src = src.strip()
                if src in pictures.uris:
                    return ImageRef(source=source, kind=ImageKind.EMBEDDED, index=pictures.uris[src])
                url = urlparse(src)
                if url.scheme or url.netloc or not url.path:
                    return None
                n = by_name.get(posixpath.normpath(posixpath.join(here, unquote(url.path))))
                return None if n is None else ImageRef(source=source, kind=ImageKind.EMBEDDED, index=n)

            meta = {"document_title": doc_title, "chapter": number}
            if getattr(book, "mmrag_note", None):
                meta["load_note"] = book.mmrag_note
            for element in html_elements(root, source, resolve=resolve, meta=meta):
                # the chapter's TOC title heads its path, unless its own first heading already says it
                if chapter and element.title_path[:1] != (chapter,):
                    element = replace(element, title_path=(chapter, *element.title_path))
                yield element
