"""PDF pages: the text layer (pdfium), OCR for scanned pages, a page-render image
element and the embedded images, streamed page by page.

Text comes from pdfium (pypdfium2), not pypdf: on Debian's LaTeX manuals it is
over 10x faster with the same words, and prints none of the font warnings pypdf
does (benchmarks/loaders_real_pdfs.py). pypdf still reads the outline, the
metadata and the image list, which ImageRef indexes count by."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from mmrag.errors import LoaderError
from mmrag.loaders.base import Loader
from mmrag.loaders.library_notes import file_note
from mmrag.loaders.decoding import (
    DEFAULT_RENDER_SCALE,
    MAX_IMAGE_PIXELS,
    PDFIUM_LOCK,
    fit_render_scale,
    render_open_page,
)
from mmrag.loaders.ocr import OCR_SKIPPED, ocr_available, ocr_image
from mmrag.types import Element, ImageKind, ImageRef, Modality


def open_pdf(path: Path):  # -> pypdf.PdfReader
    """A reader for ``path``; raises ``LoaderError`` for corrupt or locked files."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise LoaderError(path, "encrypted PDF: a password is required to read it")
        _ = len(reader.pages)
    except LoaderError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise LoaderError(path, f"corrupt PDF: {exc}") from exc
    return reader


def document_title(reader, path: Path) -> str:
    """The PDF's own title when it has one, else the file name."""
    try:
        title = (reader.metadata or {}).get("/Title")
    except Exception:  # a broken info dict must not stop the text from loading
        title = None
    return str(title).strip() if title and str(title).strip() else path.name


def outline_by_page(reader) -> dict[int, tuple[str, ...]]:
    """For each 1-based page, the chain of outline (bookmark) titles in force
    there: the PDF's own sections, for the context header. Empty without an outline."""
    entries: list[tuple[int, int, str]] = []  # page, depth, title

    def walk(items, depth: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, depth + 1)
                continue
            try:
                page = reader.get_destination_page_number(item)
            except Exception:  # an entry pointing nowhere: skip it, keep the rest
                continue
            title = str(getattr(item, "title", "") or "").strip()
            if page is not None and page >= 0 and title:
                entries.append((page + 1, depth, title))

    try:
        walk(reader.outline, 0)
    except Exception:  # a broken outline must not cost the pages
        return {}
    chains: dict[int, tuple[str, ...]] = {}
    chain: list[tuple[int, str]] = []
    ordered = sorted(entries, key=lambda e: e[0])  # stable: document order within a page
    k = 0
    for page in range(1, len(reader.pages) + 1):
        while k < len(ordered) and ordered[k][0] <= page:
            _, depth, title = ordered[k]
            chain = [(d, t) for d, t in chain if d < depth] + [(depth, title)]
            k += 1
        chains[page] = tuple(t for _, t in chain)
    return chains


# Scans are OCR'd from a 72-dpi render: on real 150-dpi scans of Debian's manuals it
# recalled 99.6% of the text layer's words, against 97.3% at 2.0 with the angle
# classifier (the setting before), for a quarter of the pixels
# (benchmarks/loaders_real_pdfs.py). Page images for embedders keep DEFAULT_RENDER_SCALE.
OCR_RENDER_SCALE = 1.0
# OCR reads at most this many pixels of a page (about an A0 poster at 72 dpi): text
# detection runs on every pixel, so a page that fits the 64 MP render cap only at a
# tiny scale (a 200,000-point MediaBox) took 35 s and 1.4 GB to find nothing.
OCR_MAX_PIXELS = 8_000_000

# A page whose content stream is this small draws at most a few words or lines.
_BLANK_CONTENT_BYTES = 400


@dataclass
class PdfLoader(Loader):
    """Per page (1-based): text-layer text, OCR text when the text layer is
    (nearly) empty, a PAGE_IMAGE element pointing at the page render, and one
    IMAGE element per embedded image. The PDF's outline (bookmarks) gives each
    page its section titles (``title_path``).

    Example::

        loader = PdfLoader(render_pages=False, ocr=True)   # no page-image elements
        elements = list(loader.load(Path("scan.pdf"), "scan.pdf"))

    ``render_pages=False`` drops page-image elements, except for a scanned page
    whose text could not be read (no OCR): its page image is all there is of it.
    """

    render_pages: bool = True
    ocr: bool = True
    ocr_min_chars: int = 30  # a text layer shorter than this is taken for a scan
    render_scale: float = OCR_RENDER_SCALE  # for the OCR render
    ocr_max_pixels: int = OCR_MAX_PIXELS  # the OCR render's cap: the page is rendered at the scale that fits

    name = "pdf"
    extensions = frozenset({".pdf"})
    signatures = (b"%PDF-",)

    def load(self, path: Path, source: str) -> Iterator[Element]:
        reader = open_pdf(path)
        title = document_title(reader, path)
        sections = outline_by_page(reader)
        pdfium_doc = _open_pdfium(path)
        try:
            for number, page in enumerate(reader.pages, start=1):
                text = _text_layer(pdfium_doc, path, number)
                fitted, render_note = _render_fit(page, number, DEFAULT_RENDER_SCALE)  # the page image's
                meta = {"document_title": title, **({"decode_note": render_note} if render_note else {})}
                where = {"source": source, "page": number, "title_path": sections.get(number, ())}
                if text:
                    yield Element(modality=Modality.TEXT, text=text, metadata=meta, **where)
                n_images = _image_count(page)
                # little text but pictures or drawings (text drawn as curves): a scan to OCR;
                # a blank page is not worth an OCR pass
                scanned = len(text) < self.ocr_min_chars and (n_images > 0 or _content_size(page) > _BLANK_CONTENT_BYTES)
                page_meta = dict(meta)
                ocr_text = ""
                if scanned and self.ocr and fitted is not None:  # no page render fits: its note says "no OCR"
                    if ocr_available():
                        ocr_text = self._ocr_page(pdfium_doc, page, path, number)
                        if ocr_text:
                            yield Element(modality=Modality.TEXT, text=ocr_text, metadata={**meta, "ocr": True}, **where)
                    else:
                        page_meta[OCR_SKIPPED] = "page"
                if render_note and fitted is None and not text and not ocr_text:
                    file_note(render_note)  # the page yields nothing to carry its note
                if fitted is not None and (self.render_pages or (scanned and not text and not ocr_text)):
                    yield Element(
                        modality=Modality.PAGE_IMAGE, metadata=page_meta,
                        image=ImageRef(source=source, kind=ImageKind.PAGE_RENDER, page=number), **where,
                    )
                # A scan is one full-page picture: the page image already stands for it.
                if scanned and n_images == 1:
                    n_images = 0
                for index in range(n_images):
                    yield Element(
                        modality=Modality.IMAGE, metadata=meta,
                        image=ImageRef(source=source, kind=ImageKind.EMBEDDED, page=number, index=index), **where,
                    )
        finally:
            with PDFIUM_LOCK:
                pdfium_doc.close()

    def _ocr_page(self, pdfium_doc, page, path: Path, number: int) -> str:  # pdfium_doc: pypdfium2.PdfDocument
        """The OCR text of a scanned page, read from a render made directly at the
        scale that fits ``ocr_max_pixels`` (never a full-size render shrunk
        afterwards: the bitmap is allocated whole). A smaller scale than asked is
        said on the file's report line."""
        fitted, note = _render_fit(page, number, self.render_scale, self.ocr_max_pixels, use="OCR")
        if note:
            file_note(note)
        if fitted is None:
            return ""
        # pdfium checks its own page size against the same cap (pypdf's box may be broken)
        return ocr_image(render_open_page(pdfium_doc, path, number, fitted, self.ocr_max_pixels))


# pdfium ends lines with CRLF and marks a word hyphenated across a line end with
# U+0002 (or U+FFFE): join such words, as pypdf's text did.
_SOFT_HYPHEN_BREAK = re.compile("[\u0002\ufffe]\r?\n?")


def _text_layer(pdfium_doc, path: Path, number: int) -> str:  # pdfium_doc: pypdfium2.PdfDocument
    import pypdfium2 as pdfium

    try:
        with PDFIUM_LOCK:
            page = pdfium_doc[number - 1]
            try:
                textpage = page.get_textpage()
                try:
                    text = textpage.get_text_bounded()
                finally:
                    textpage.close()
            finally:
                page.close()
    except (pdfium.PdfiumError, IndexError, ValueError) as exc:
        raise LoaderError(path, f"page {number}: cannot read its text layer: {exc}") from exc
    text = _SOFT_HYPHEN_BREAK.sub("", text).replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    return text.strip()


def _render_fit(
    page, number: int, scale: float, max_pixels: int = MAX_IMAGE_PIXELS, use: str = "page image"
) -> tuple[float | None, str | None]:
    """The scale page ``number`` renders at within ``max_pixels`` (None: not
    rendered at all) and a note when that is not ``scale``; ``use`` is what the
    render is for ("page image" or "OCR"), named in the note. Decided from the
    page box before anything is allocated; pdfium renders the CropBox in points."""
    try:
        width, height = float(page.cropbox.width), float(page.cropbox.height)
    except Exception:  # a broken box: pdfium's own size is checked again at render time
        return scale, None
    fitted = fit_render_scale(abs(width), abs(height), scale, max_pixels)
    if fitted is None:
        lost = "it has no page image and no OCR" if use == "page image" else "it is not OCR'd"
        return None, (
            f"page {number} is {abs(width):,.0f} x {abs(height):,.0f} points: too large to render within "
            f"{max_pixels:,} pixels, so {lost}"
        )
    if fitted < scale:
        done = "rendered" if use == "page image" else "OCR'd from a render"
        return fitted, f"page {number} {done} at {fitted:.3g}x instead of {scale:g}x to stay within {max_pixels:,} pixels"
    return fitted, None


def _content_size(page) -> int:
    """Bytes in the page's content stream (decoded): near zero on a blank page."""
    try:
        contents = page.get_contents()
        return len(contents.get_data()) if contents is not None else 0
    except Exception:  # unreadable content: let OCR look at the render
        return _BLANK_CONTENT_BYTES + 1


def _image_count(page) -> int:
    """How many images pypdf sees on the page; counting does not decode them."""
    try:
        return len(page.images)
    except Exception:  # a broken resource dict: the text is still worth having
        return 0


def _open_pdfium(path: Path):
    import pypdfium2 as pdfium

    try:
        with PDFIUM_LOCK:
            return pdfium.PdfDocument(path)
    except pdfium.PdfiumError as exc:
        raise LoaderError(path, f"corrupt PDF: pdfium cannot open it: {exc}") from exc
