"""Decoding primitives the loaders and the image resolver share: open and
size-check an image, render a PDF page. A leaf module (it imports no loader),
so the loaders and ``image_refs`` can both depend on it.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING

from mmrag.errors import LoaderError

if TYPE_CHECKING:
    from PIL import Image

# 2x = 144 dpi: small print stays legible for OCR and image embedders, and an
# A4 page is ~1190x1684 pixels (about 6 MB in RGB), cheap enough to render per page.
DEFAULT_RENDER_SCALE = 2.0
# Refuse images above this many pixels: a 40 KB PNG can claim 100k x 100k pixels
# (a decompression bomb) and take tens of GB to decode.
MAX_IMAGE_PIXELS = 64_000_000


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
