"""Get an image back from its ImageRef by re-opening the source.

Chunks keep a pointer (file + page/slide + index), not pixels, so the store stays
small and an image embedder added later can embed old chunks without
re-ingesting. Every failure is a ``LoaderError`` naming the source.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING

from mmrag.errors import LoaderError
from mmrag.types import ImageKind, ImageRef

if TYPE_CHECKING:
    from PIL import Image

# 2x = 144 dpi: small print stays legible for OCR and image embedders, and an
# A4 page is ~1190x1684 pixels (about 6 MB in RGB), cheap enough to render per page.
DEFAULT_RENDER_SCALE = 2.0
# Refuse images above this many pixels: a 40 KB PNG can claim 100k x 100k pixels
# (a decompression bomb) and take tens of GB to decode.
MAX_IMAGE_PIXELS = 64_000_000


def open_image(ref: ImageRef, *, render_scale: float = DEFAULT_RENDER_SCALE) -> Image.Image:
    """The image ``ref`` points at, as an RGB-or-original-mode PIL image, fully loaded.

    FILE: the image file with its EXIF orientation applied. PAGE_RENDER: the PDF
    page rendered at ``render_scale`` (1.0 = 72 dpi). EMBEDDED: the ``index``-th
    (0-based) picture of the PDF page or slide, in document order.
    """
    path = Path(ref.source)
    if not path.exists():
        raise LoaderError(path, "no such file (the image reference points at a file that is gone)")
    if ref.kind is ImageKind.FILE:
        return read_image_file(path)
    if ref.kind is ImageKind.PAGE_RENDER:
        assert ref.page is not None
        return render_pdf_page(path, ref.page, render_scale)
    assert ref.index is not None
    if ref.slide is not None:
        return slide_picture(path, ref.slide, ref.index)
    if ref.page is not None:
        return pdf_page_image(path, ref.page, ref.index)
    raise LoaderError(path, "an embedded image reference needs a page or a slide")


def decode_image(data: bytes | Path, source: str | Path) -> Image.Image:
    """Open, size-check and fully decode an image, EXIF orientation applied.

    Raises ``LoaderError`` for bombs, truncated files and data PIL cannot read.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    fh = io.BytesIO(data) if isinstance(data, bytes) else data
    try:
        img = Image.open(fh)  # reads the header only: size is known before decoding
    except Image.DecompressionBombError as exc:
        raise LoaderError(source, f"image refused: {exc}") from exc
    except UnidentifiedImageError as exc:
        raise LoaderError(source, "not an image PIL can read (unknown or corrupt format)") from exc
    except OSError as exc:
        raise LoaderError(source, f"cannot open image: {exc}") from exc
    width, height = img.size
    if width * height > MAX_IMAGE_PIXELS:
        raise LoaderError(
            source,
            f"image refused: {width}x{height} = {width * height:,} pixels is over the cap of "
            f"{MAX_IMAGE_PIXELS:,} (possible decompression bomb)",
        )
    try:
        img.load()
    except (OSError, SyntaxError, ValueError) as exc:
        # PIL says "image file is truncated" / "broken data stream" for cut-off files.
        raise LoaderError(source, f"truncated or corrupt image data: {exc}") from exc
    return ImageOps.exif_transpose(img)


def read_image_file(path: Path) -> Image.Image:
    return decode_image(path, path)


def render_pdf_page(path: Path, page: int, scale: float = DEFAULT_RENDER_SCALE) -> Image.Image:
    """Render 1-based ``page`` of a PDF with pdfium (what Chrome uses: robust on odd PDFs)."""
    import pypdfium2 as pdfium

    if scale <= 0:
        raise ValueError(f"render scale must be > 0, got {scale}")
    try:
        pdf = pdfium.PdfDocument(path)
    except pdfium.PdfiumError as exc:
        raise LoaderError(path, f"cannot open PDF to render page {page}: {exc}") from exc
    try:
        if not 1 <= page <= len(pdf):
            raise LoaderError(path, f"cannot render page {page}: the PDF has {len(pdf)} pages")
        return render_open_page(pdf, path, page, scale)
    finally:
        pdf.close()


def render_open_page(pdf, path: Path, page: int, scale: float) -> Image.Image:  # pdf: pypdfium2.PdfDocument
    """Render a page of an already open pdfium document (the loader keeps one open)."""
    import pypdfium2 as pdfium

    try:
        pdf_page = pdf[page - 1]
        try:
            bitmap = pdf_page.render(scale=scale)
            return bitmap.to_pil()
        finally:
            pdf_page.close()
    except (pdfium.PdfiumError, ValueError, MemoryError) as exc:
        raise LoaderError(path, f"page {page} failed to render: {exc}") from exc


def pdf_page_image(path: Path, page: int, index: int) -> Image.Image:
    """The ``index``-th image XObject of 1-based ``page``, decoded by pypdf."""
    from mmrag.loaders.pdf import open_pdf

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
    from mmrag.loaders.pptx import open_presentation, slide_pictures

    prs = open_presentation(path)
    if not 1 <= slide <= len(prs.slides):
        raise LoaderError(path, f"no slide {slide}: the deck has {len(prs.slides)} slides")
    pictures = slide_pictures(prs.slides[slide - 1])
    if not 0 <= index < len(pictures):
        raise LoaderError(path, f"slide {slide} has {len(pictures)} pictures; no picture #{index}")
    return decode_image(pictures[index].image.blob, f"{path} (slide {slide}, picture #{index})")
