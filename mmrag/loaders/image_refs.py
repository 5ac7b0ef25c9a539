"""Get an image back from its ImageRef by re-opening the source.

Chunks keep a pointer (file + page/slide + index), not pixels, so the store stays
small and an image embedder added later can embed old chunks without
re-ingesting. Every failure is a ``LoaderError`` naming the source.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from mmrag.errors import LoaderError
from mmrag.loaders.attachments import materialize
from mmrag.loaders.decoding import DEFAULT_RENDER_SCALE, decode_image, read_image_file, render_pdf_page
from mmrag.loaders.pdf import open_pdf
from mmrag.loaders.pptx import open_presentation, slide_pictures
from mmrag.types import ImageKind, ImageRef

if TYPE_CHECKING:
    from PIL import Image


def open_image(ref: ImageRef, *, render_scale: float = DEFAULT_RENDER_SCALE) -> Image.Image:
    """The image ``ref`` points at, as an RGB-or-original-mode PIL image, fully loaded.

    FILE: the image file with its EXIF orientation applied. PAGE_RENDER: the PDF
    page rendered at ``render_scale`` (1.0 = 72 dpi). EMBEDDED: the ``index``-th
    (0-based) picture of the PDF page or slide, in document order. VIDEO_FRAME:
    the frame on screen at ``time`` seconds, decoded from the video (nothing is
    kept on disk).
    """
    path = Path(ref.source)
    if not path.exists():
        with materialize(ref.source) as attached:  # a picture inside a mail's attachment (mail.eml#report.pdf)
            if attached is not None:
                return open_image(replace(ref, source=str(attached)), render_scale=render_scale)
        raise LoaderError(path, "no such file (the image reference points at a file that is gone)")
    if ref.kind is ImageKind.FILE:
        return read_image_file(path, ref.page - 1 if ref.page else 0)  # a page of a multi-page TIFF
    if ref.kind is ImageKind.PAGE_RENDER:
        assert ref.page is not None
        return render_pdf_page(path, ref.page, render_scale)
    if ref.kind is ImageKind.VIDEO_FRAME:
        from mmrag.loaders.media_io import frame_at

        assert ref.time is not None
        return frame_at(path, ref.time)
    assert ref.index is not None
    if ref.slide is not None:
        return slide_picture(path, ref.slide, ref.index)
    if ref.page is not None:
        return pdf_page_image(path, ref.page, ref.index)
    return document_picture(path, ref.index)


def pdf_page_image(path: Path, page: int, index: int) -> Image.Image:
    """The ``index``-th image XObject of 1-based ``page``, decoded by pypdf."""
    reader = open_pdf(path)
    if not 1 <= page <= len(reader.pages):
        raise LoaderError(path, f"no page {page}: the PDF has {len(reader.pages)} pages")
    try:
        images = reader.pages[page - 1].images
        if not 0 <= index < len(images):
            raise LoaderError(path, f"page {page} has {len(images)} images; no image #{index}")
        data = images[index].data
    except LoaderError:
        raise
    except Exception as exc:  # pypdf raises many types for broken image streams
        raise LoaderError(path, f"page {page}: cannot extract image #{index}: {exc}") from exc
    return decode_image(data, f"{path} (page {page}, image #{index})")


def slide_picture(path: Path, slide: int, index: int) -> Image.Image:
    """The ``index``-th picture of 1-based ``slide``, in the order the loader saw them."""
    prs = open_presentation(path)
    if not 1 <= slide <= len(prs.slides):
        raise LoaderError(path, f"no slide {slide}: the deck has {len(prs.slides)} slides")
    pictures = slide_pictures(prs.slides[slide - 1])
    if not 0 <= index < len(pictures):
        raise LoaderError(path, f"slide {slide} has {len(pictures)} pictures; no picture #{index}")
    return decode_image(pictures[index].image.blob, f"{path} (slide {slide}, picture #{index})")


def document_picture(path: Path, index: int) -> Image.Image:
    """The ``index``-th picture of a document without pages or slides (Word, EPUB,
    ODT, an HTML page's inline ones), in the order its loader counted them; the
    format is told by content."""
    from mmrag.loaders import find_loader

    loader, _ = find_loader(path)
    pictures = getattr(loader, "picture_bytes", None)
    if pictures is None:
        raise LoaderError(path, f"an embedded image reference needs a page or a slide for a {loader.name} file")
    return decode_image(pictures(path, index), f"{path} (picture #{index})")
