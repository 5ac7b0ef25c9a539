"""PowerPoint decks with python-pptx: per slide the title, every shape's text in
reading order (groups, freeform and untyped shapes included), tables as
"header: value" rows, charts as text, speaker notes, and pictures
with their alt text. A slide's text elements form one chunking unit."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mmrag.errors import LoaderError
from mmrag.loaders.base import Loader
from mmrag.loaders.failures import explain
from mmrag.loaders.ocr import ocr_available
from mmrag.loaders.picture_ocr import read_picture
from mmrag.loaders.pptx_text import body_text, chart_text, loose_text_bodies, table_text
from mmrag.loaders.zipsafe import DEFAULT_ZIP_LIMITS, ZipLimits, check_zip, read_member
from mmrag.types import Element, ImageKind, ImageRef, Modality

ZIP_SIGNATURE = b"PK\x03\x04"
_PRESENTATION = "presentationml"


def zip_content_types(path: Path, limits: ZipLimits = DEFAULT_ZIP_LIMITS) -> str | None:
    """The text of ``[Content_Types].xml`` in a zip (a bounded read), or None when
    there is none or it is over its limit."""
    try:
        with zipfile.ZipFile(path) as zf:
            return read_member(zf, "[Content_Types].xml", limits).decode("utf-8", "replace")
    except (zipfile.BadZipFile, KeyError, OSError, LoaderError):
        return None


def open_presentation(path: Path, limits: ZipLimits = DEFAULT_ZIP_LIMITS):  # -> pptx.presentation.Presentation
    """The deck at ``path``; a zip that is not a deck gets an error saying what it
    is, and one over ``limits`` an error naming the member (see ``zipsafe``)."""
    from pptx import Presentation

    if not zipfile.is_zipfile(path):
        raise LoaderError(path, "not a PowerPoint deck: not a zip archive")
    check_zip(path, limits)  # python-pptx inflates every part into memory: check them first
    types = zip_content_types(path, limits)
    if types is None:
        raise LoaderError(path, "not a PowerPoint deck: a zip archive without [Content_Types].xml")
    if _PRESENTATION not in types:
        what = next((k for k in ("wordprocessingml", "spreadsheetml") if k in types), None)
        kind = {"wordprocessingml": "a Word document", "spreadsheetml": "an Excel workbook"}.get(what or "")
        raise LoaderError(path, f"not a PowerPoint deck: the zip holds {kind or 'no presentation part'}")
    try:
        return Presentation(str(path))
    except Exception as exc:  # python-pptx/lxml raise many types for broken parts
        raise LoaderError(path, f"corrupt PowerPoint deck: {explain(exc, 'deck')}") from exc


def _walk(shapes) -> Iterator[Any]:
    """Shapes in reading order (top to bottom, then left to right), groups flattened.

    Groups are told by class, not ``shape_type``: python-pptx raises on the
    shapes it cannot type (a text shape without geometry, as some converters write)."""
    from pptx.shapes.group import GroupShape

    def key(shape) -> tuple[int, int]:
        return (shape.top or 0, shape.left or 0)

    for shape in sorted(shapes, key=key):
        if isinstance(shape, GroupShape):
            yield from _walk(shape.shapes)
        else:
            yield shape


def slide_pictures(slide) -> list[Any]:
    """The slide's pictures in the order their ImageRef indexes count them."""
    return [s for s in _walk(slide.shapes) if _is_picture(s)]


def _is_picture(shape) -> bool:
    from pptx.shapes.picture import Picture

    return isinstance(shape, Picture)


def _alt_text(shape) -> str:
    """Alt text ("descr") of a shape, falling back to its title attribute."""
    c_nv_pr = shape._element.xpath("./*[1]/p:cNvPr")  # python-pptx has no public alt-text API
    if not c_nv_pr:
        return ""
    return (c_nv_pr[0].get("descr") or c_nv_pr[0].get("title") or "").strip()


def _bbox(shape) -> tuple[float, float, float, float] | None:
    if shape.left is None or shape.top is None or shape.width is None or shape.height is None:
        return None
    return (float(shape.left), float(shape.top), float(shape.left + shape.width), float(shape.top + shape.height))


def _shape_text(shape) -> tuple[str, str]:
    """(text, role) of a non-picture shape; ("", "") when it holds none."""
    if getattr(shape, "has_table", False):
        return table_text(shape.table), "table"
    if getattr(shape, "has_chart", False):
        return chart_text(shape.chart), "chart"
    if getattr(shape, "has_text_frame", False) and shape.has_text_frame:
        return body_text(shape.text_frame._txBody), "body"
    return "", ""


@dataclass
class PptxLoader(Loader):
    """One group of elements per slide (1-based ``slide``), all with the slide
    title as their title path, so the chunker keeps a slide together.

    Example::

        elements = list(PptxLoader().load(Path("deck.pptx"), "deck.pptx"))

    Speaker notes are a text element with ``metadata["role"] == "notes"``;
    pictures are IMAGE elements whose text is their alt text (plus OCR text
    when ``ocr`` is on and the extra is installed).
    """

    ocr: bool = True
    zip_limits: ZipLimits = DEFAULT_ZIP_LIMITS

    name = "pptx"
    extensions = frozenset({".pptx"})
    signatures = (ZIP_SIGNATURE,)

    def sniff(self, head: bytes, path: Path) -> bool:
        """A zip that declares a presentation part; a ``.pptx`` zip is claimed too so
        that ``load`` can say what it really holds."""
        if not head.startswith(ZIP_SIGNATURE):
            return False
        if path.suffix.lower() in self.extensions:
            return True
        types = zip_content_types(path)
        return types is not None and _PRESENTATION in types

    def load(self, path: Path, source: str) -> Iterator[Element]:
        prs = open_presentation(path, self.zip_limits)
        doc_title = (prs.core_properties.title or "").strip() or path.name
        for number, slide in enumerate(prs.slides, start=1):
            yield from self._slide(slide, number, doc_title, path, source)

    def _slide(self, slide, number: int, doc_title: str, path: Path, source: str) -> Iterator[Element]:
        title_shape = slide.shapes.title
        title = body_text(title_shape.text_frame._txBody) if title_shape is not None and title_shape.has_text_frame else ""
        title = " ".join(title.split())
        common = {"source": source, "slide": number, "title_path": (title,) if title else ()}
        meta = {"document_title": doc_title, "slide_title": title}
        if title:
            yield Element(modality=Modality.TEXT, text=title, bbox=_bbox(title_shape), metadata={**meta, "role": "title"}, **common)
        read = [title_shape._element.txBody] if title and title_shape is not None else []
        picture_index = 0
        for shape in _walk(slide.shapes):
            if title_shape is not None and shape.shape_id == title_shape.shape_id:
                continue
            if _is_picture(shape):
                yield self._picture(shape, number, picture_index, path, source, common, meta)
                picture_index += 1
                continue
            try:
                text, role = _shape_text(shape)
            except Exception as exc:  # python-pptx/lxml raise many types for a broken chart part
                raise LoaderError(path, f"slide {number}: unreadable {type(shape).__name__}: {explain(exc, 'deck')}") from exc
            if role == "body":
                read.append(shape.text_frame._txBody)
            if text:
                yield Element(modality=Modality.TEXT, text=text, bbox=_bbox(shape), metadata={**meta, "role": role}, **common)
        for body in loose_text_bodies(slide.shapes._spTree, read):
            text = body_text(body)
            if text:
                yield Element(modality=Modality.TEXT, text=text, metadata={**meta, "role": "body"}, **common)
        if slide.has_notes_slide:
            notes_frame = slide.notes_slide.notes_text_frame
            notes = body_text(notes_frame._txBody) if notes_frame is not None else ""
            if notes:
                yield Element(
                    modality=Modality.TEXT, text=f"Speaker notes: {notes}", metadata={**meta, "role": "notes"}, **common
                )

    def _picture(self, shape, number: int, index: int, path: Path, source: str, common: dict, meta: dict) -> Element:
        alt = _alt_text(shape)
        pic_meta: dict[str, Any] = {**meta, "alt_text": alt}
        try:
            pic_meta["sha1"] = shape.image.sha1
        except (AttributeError, KeyError, ValueError):  # a linked picture has no embedded bytes
            pass
        if self.ocr:
            pic_meta.update(_read_picture(shape, f"{path} (slide {number}, picture #{index})"))
        ocr_text = pic_meta.get("ocr_text", "")
        return Element(
            modality=Modality.IMAGE,
            text="\n".join(t for t in (alt, ocr_text) if t),
            image=ImageRef(source=source, kind=ImageKind.EMBEDDED, slide=number, index=index),
            bbox=_bbox(shape),
            metadata=pic_meta,
            **common,
        )


# A picture covering this share of the slide, under text of the slide's own, is
# its background: OCR would read back the slide's text, or nothing.
_BACKGROUND_SHARE = 0.95


def _read_picture(shape, what: str) -> dict[str, Any]:
    """``read_picture``'s metadata for a picture, against the slide's own text; a
    slide's background is not read."""
    slide = shape.part.slide
    text = "\n".join(s.text_frame.text for s in _walk(slide.shapes) if s.has_text_frame and s.text_frame.text.strip())
    presentation = shape.part.package.presentation_part.presentation
    area = (presentation.slide_width or 0) * (presentation.slide_height or 0)
    if ocr_available() and text and area and (shape.width or 0) * (shape.height or 0) >= _BACKGROUND_SHARE * area:
        return {"ocr_text": "", "ocr_skip": "background"}
    return read_picture(lambda: shape.image.blob, what, text)
