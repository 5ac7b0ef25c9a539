"""Web pages (.html, .htm, .xhtml) with lxml: the main content only, under its
heading path, with tables as rows and pictures (table cells' too) with their
alt text.

Scripts, styles, forms, navigation, site headers and footers, asides and
cookie or consent banners are dropped; when the page marks its content
(``<main>``, one ``<article>``), only that is read. Nothing is ever fetched: a
local ``<img src>`` inside the page's folder becomes an image element that
points at the file, an inline ``data:image`` picture one that points into the
page; a remote picture keeps only its alt text.

lxml rather than trafilatura: trafilatura's extraction flattens tables and
drops short pages' text as boilerplate; walking the tree keeps headings, table
rows and pictures in place, and these few rules drop the boilerplate.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import unquote, unquote_to_bytes, urlparse

from mmrag.errors import CorruptFileError, LoaderError
from mmrag.loaders.base import Loader
from mmrag.loaders.decoding import read_bounded
from mmrag.loaders.delimited import column_number
from mmrag.loaders.encoding import detect_encoding
from mmrag.loaders.picture_ocr import ocr_pictures
from mmrag.loaders.tables import table_elements, with_cell_pictures
from mmrag.types import Element, ImageKind, ImageRef, Modality

MAX_HTML_BYTES = 64 * 1024 * 1024
_DROP = frozenset({
    "script", "style", "noscript", "template", "nav", "header", "footer", "aside", "form", "iframe", "svg",
    "button", "select", "input", "textarea", "object", "embed", "canvas", "dialog", "head", "menu",
})
_DROP_ROLES = frozenset({"navigation", "banner", "contentinfo", "search", "complementary", "dialog", "alertdialog"})
_BOILERPLATE = re.compile(r"cookie|consent|gdpr|banner|popup|modal|newsletter|breadcrumb|sidebar|share|social|skip-link", re.I)
_BLOCKS = frozenset({
    "p", "div", "section", "article", "main", "li", "ul", "ol", "dl", "dt", "dd", "blockquote", "pre", "figure",
    "figcaption", "address", "hr", "details", "summary", "body", "html", "center",
})
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_SPACE = re.compile(r"[ \t\r\f\v\u00a0]+")
_IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp", ".tif", ".tiff"})

ImageResolver = Callable[[str], ImageRef | None]


def _norm(text: str) -> str:
    lines = (_SPACE.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def _is_boilerplate(el) -> bool:
    if (el.get("role") or "").lower() in _DROP_ROLES or el.get("aria-hidden") == "true" or el.get("hidden") is not None:
        return True
    marks = f"{el.get('id') or ''} {el.get('class') or ''}"
    return bool(marks.strip()) and bool(_BOILERPLATE.search(marks))


def _tag(el) -> str | None:
    return el.tag.rsplit("}", 1)[-1].lower() if isinstance(el.tag, str) else None


def main_content(root):
    """``<main>``, or the page's only ``<article>``, else ``<body>`` (or the root)."""
    for xpath in ("//*[local-name()='main']", "//*[local-name()='article']"):
        found = root.xpath(xpath)
        if len(found) == 1:
            return found[0]
    body = root.xpath("//*[local-name()='body']")
    return body[0] if body else root


def page_title(root) -> str:
    found = root.xpath("//*[local-name()='title']")
    return _norm(found[0].text_content()) if found else ""


class _Walker:
    """Turns a content tree into elements in reading order (see the module docstring)."""

    def __init__(self, source: str, prefix: tuple[str, ...], meta: dict[str, Any], resolve: ImageResolver) -> None:
        self.source, self.prefix, self.meta, self.resolve = source, prefix, meta, resolve
        self.chain: list[tuple[int, str]] = []
        self.buffer: list[str] = []
        self.tables = 0

    def path(self) -> tuple[str, ...]:
        return (*self.prefix, *(t for _, t in self.chain))

    def text(self, text: str, role: str) -> Element | None:
        text = _norm(text)
        if not text:
            return None
        return Element(source=self.source, modality=Modality.TEXT, text=text, title_path=self.path(),
                       metadata={**self.meta, "role": role})

    def flush(self, role: str = "body") -> Iterator[Element]:
        element = self.text("".join(self.buffer), role)
        self.buffer = []
        if element is not None:
            yield element

    def walk(self, el) -> Iterator[Element]:
        if el.text:
            self.buffer.append(el.text)
        for child in el:
            yield from self.handle(child)
            if child.tail:
                self.buffer.append(child.tail)

    def handle(self, el) -> Iterator[Element]:
        tag = _tag(el)
        if tag is None or tag in _DROP or _is_boilerplate(el):
            return
        if tag in _HEADINGS:
            yield from self.flush()
            title = _norm(el.text_content()).replace("\n", " ")
            if title:
                level = _HEADINGS[tag]
                self.chain = [(lv, t) for lv, t in self.chain if lv < level] + [(level, title)]
                heading = self.text(title, "heading")
                if heading is not None:
                    yield heading
        elif tag == "table":
            yield from self.flush()
            yield from self.table(el)
        elif tag == "img":
            yield from self.flush()
            yield from self.image(el)
        elif tag == "br":
            self.buffer.append("\n")
        elif tag in _BLOCKS:
            yield from self.flush()
            if tag == "li":
                self.buffer.append("• ")
            yield from self.walk(el)
            yield from self.flush("list_item" if tag == "li" else "body")
        else:
            yield from self.walk(el)

    def table(self, el) -> Iterator[Element]:
        """The table's rows, then the pictures in its cells (``tables.with_cell_pictures``);
        the rows' text is the cells' text, so a cell's alt text is said once, after them."""
        self.tables += 1
        meta = {**self.meta, "table": self.tables}
        rows, pictures = [], []
        for number, tr in enumerate(el.xpath(".//*[local-name()='tr']"), start=1):
            cells = [c for c in tr if _tag(c) in ("td", "th")]
            rows.append((number, [_norm(c.text_content()).replace("\n", " ") for c in cells]))
            pictures.extend((number, e) for c in cells for img in c.iter("img", "{*}img") for e in self.image(img, meta))
        rows_out = table_elements(rows, source=self.source, name=column_number, title_path=self.path(), metadata=meta)
        yield from with_cell_pictures(rows_out, [(n, e) for n, e in pictures if e.modality is Modality.IMAGE])
        for n, e in pictures:  # a picture that is only its alt text (remote, escaping) stays text, marked with its row
            if e.modality is Modality.TEXT:
                yield replace(e, metadata={**e.metadata, "table_row": n})

    def image(self, el, meta: dict[str, Any] | None = None) -> Iterator[Element]:
        alt = _norm(el.get("alt") or el.get("title") or "")
        ref = self.resolve(el.get("src") or "")
        meta = self.meta if meta is None else meta
        if ref is not None:
            yield Element(source=self.source, modality=Modality.IMAGE, text=alt, image=ref, title_path=self.path(),
                          metadata={**meta, "alt_text": alt})
        elif alt:
            yield Element(source=self.source, modality=Modality.TEXT, text=f"Image: {alt}", title_path=self.path(),
                          metadata={**meta, "role": "image_alt"})


def html_elements(root, source: str, *, resolve: ImageResolver, prefix: tuple[str, ...] = (),
                  meta: dict[str, Any] | None = None) -> Iterator[Element]:
    """Elements of a parsed page's main content; ``resolve`` maps an ``<img src>`` to
    an ``ImageRef`` (or None: only the alt text is kept)."""
    walker = _Walker(source, prefix, dict(meta or {}), resolve)
    content = main_content(root)
    yield from walker.walk(content) if _tag(content) in ("body", "html") else walker.handle(content)
    yield from walker.flush()


def parse_html(data: bytes, encoding: str):  # -> lxml.html.HtmlElement
    """The page's tree; lxml's HTML parser never loads external resources."""
    import lxml.html
    from lxml import etree

    parser = lxml.html.HTMLParser(encoding=encoding, remove_comments=True, remove_pis=True, no_network=True)
    root = lxml.html.document_fromstring(data, parser=parser)
    if root is None:
        raise etree.ParserError("empty document")
    return root


class PageImages:
    """The pictures a page may show, never fetched: a relative ``src`` to an image
    file inside the page's folder (an ``ImageKind.FILE`` ref), and a ``data:image``
    URI (an ``EMBEDDED`` ref counting the page's distinct data URIs in document
    order); remote and escaping ones resolve to None (only the alt text is kept).

    Example::

        images = PageImages(Path("site/page.html"), "site/page.html", root)
        ref = images("img/chart.png")      # ImageRef(source="site/img/chart.png", kind=FILE)
        images.data(ref)                   # the file's path, for OCR
    """

    def __init__(self, page: Path, source: str, root: Any) -> None:
        self.base = page.parent.resolve()
        self.source, self.source_dir = source, Path(source).parent
        self.files: dict[str, Path] = {}
        self.uris = {uri: n for n, uri in enumerate(inline_pictures(root))}  # decoded only when OCR asks for it

    def __call__(self, src: str) -> ImageRef | None:
        src = src.strip()
        if src in self.uris:
            return ImageRef(source=self.source, kind=ImageKind.EMBEDDED, index=self.uris[src])
        url = urlparse(src)
        if not url.path or url.scheme or url.netloc:
            return None
        target = (self.base / unquote(url.path)).resolve()
        if not target.is_relative_to(self.base) or target.suffix.lower() not in _IMAGE_SUFFIXES or not target.is_file():
            return None
        shown = str(self.source_dir / target.relative_to(self.base))
        self.files[shown] = target
        return ImageRef(source=shown, kind=ImageKind.FILE)

    def name(self, ref: ImageRef) -> str:
        """How errors name the picture."""
        return f"{self.files.get(ref.source, ref.source)}" if ref.index is None else f"{self.source} (picture #{ref.index})"

    def data(self, ref: ImageRef) -> bytes | Path | None:
        """What ``ref`` shows: the picture file's path, or a data URI's bytes."""
        if ref.kind is ImageKind.FILE:
            return self.files.get(ref.source)
        uri = next((u for u, n in self.uris.items() if n == ref.index), None)
        return None if uri is None else data_uri_bytes(uri)


def inline_pictures(root: Any) -> list[str]:
    """The distinct ``data:image`` URIs of a page's ``<img>`` elements, in document
    order (the whole tree, not only the main content: the count must not depend on
    which parts the walk drops)."""
    uris: dict[str, None] = {}
    for img in root.iter("img", "{*}img"):
        uri = (img.get("src") or "").strip()
        if uri[:11].lower() == "data:image/":
            uris.setdefault(uri)
    return list(uris)


def data_uri_bytes(src: str) -> bytes | None:
    """The bytes of a ``data:image/...`` URI (base64 or percent-encoded), else None.
    By hand: the stdlib reads data URIs only through ``urlopen``, a network call's door."""
    head, sep, payload = src.strip().partition(",")
    if not sep or not head.lower().startswith("data:image/"):
        return None
    try:
        return base64.b64decode(payload) if head.lower().endswith(";base64") else unquote_to_bytes(payload)
    except ValueError:  # broken base64: the alt text is all there is
        return None


def _read_page(path: Path) -> tuple[Any, str | None]:
    """The page's tree and a note on its encoding (when it had to be guessed)."""
    from lxml import etree

    data = read_bounded(path, MAX_HTML_BYTES, lambda size: f"web page of {size:,} bytes is over the limit of {MAX_HTML_BYTES:,}")
    declared = _CHARSET.search(data[:4096])
    encoding, note = detect_encoding(path, data[:65536], declared.group(1).decode("ascii") if declared else None)
    try:
        return parse_html(data, encoding), note
    except (etree.ParserError, ValueError, LookupError) as exc:
        raise CorruptFileError(path, f"unreadable web page: {exc}") from exc


@dataclass
class HtmlLoader(Loader):
    """Main-content elements of a web page under its heading path.

    Example::

        elements = list(HtmlLoader().load(Path("page.html"), "page.html"))

    With ``ocr`` (and the ``ocr`` extra) the text in its local and inline pictures is read too.
    """

    ocr: bool = True

    name = "html"
    extensions = frozenset({".html", ".htm", ".xhtml"})
    signatures = (b"<!DOCTYPE html", b"<!doctype html", b"<html")

    def sniff(self, head: bytes, path: Path) -> bool:
        start = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
        if start.startswith((b"<!doctype html", b"<html")):
            return True
        return path.suffix.lower() in self.extensions and b"\x00" not in head

    def load(self, path: Path, source: str) -> Iterator[Element]:
        root, note = _read_page(path)
        meta: dict[str, Any] = {"document_title": page_title(root) or path.name}
        if note:
            meta["load_note"] = note
        images = PageImages(path, source, root)
        elements = html_elements(root, source, resolve=images, meta=meta)
        if self.ocr:
            elements = ocr_pictures(elements, images.data, images.name)
        yield from elements

    def picture_bytes(self, path: Path, index: int) -> bytes:
        """The bytes of the page's ``index``-th data-URI picture (see ``PageImages``)."""
        root, _ = _read_page(path)
        data = PageImages(path, str(path), root).data(ImageRef(source=str(path), kind=ImageKind.EMBEDDED, index=index))
        if not isinstance(data, bytes):
            raise LoaderError(path, f"the page has no inline picture #{index}")
        return data
