"""Decoding primitives the loaders and the image resolver share: read a file
within a size cap, open and size-check an image, render a PDF page. A leaf module (it imports no loader),
so the loaders and ``image_refs`` can both depend on it.
"""

from __future__ import annotations

import io
import math
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from mmrag.errors import InvalidArgument, LoaderError, RenderTooLargeError

if TYPE_CHECKING:
    from PIL import Image

# 2x = 144 dpi: small print stays legible for OCR and image embedders, and an
# A4 page is ~1190x1684 pixels (about 6 MB in RGB), cheap enough to render per page.
DEFAULT_RENDER_SCALE = 2.0
# Refuse images above this many pixels: a 40 KB PNG can claim 100k x 100k pixels
# (a decompression bomb) and take tens of GB to decode.
MAX_IMAGE_PIXELS = 64_000_000
# pdfium is not thread-safe: no two threads may call into it at once, not even on
# different documents (pypdfium2's docs, "Incompatibility with Threading"; doing
# so crashes the process). The image embedders decode in threads and the Daft
# engine runs loaders in threads, so every pdfium call in mmrag holds this lock.
# Re-entrant: render_pdf_page holds it while render_open_page takes it again.
PDFIUM_LOCK = threading.RLock()


def read_bounded(path: Path, max_bytes: int, too_large: Callable[[int], str]) -> bytes:
    """The file's bytes, refused with ``LoaderError(path, too_large(size))`` when
    over ``max_bytes``: by its size on disk before anything is read, and by what
    was read (at most ``max_bytes + 1``), since a file can grow or a special file
    say 0. Each loader keeps its own cap and sentence; the reading is one rule."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise LoaderError(path, too_large(size))
        with path.open("rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise LoaderError(path, f"cannot read: {exc.strerror or exc}") from exc
    if len(data) > max_bytes:
        raise LoaderError(path, too_large(len(data)))
    return data


def decode_image(data: bytes | Path, source: str | Path, frame: int = 0) -> Image.Image:
    """Open, size-check and fully decode an image (its 0-based ``frame``: a page
    of a multi-page TIFF), EXIF orientation applied.

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
    if frame:
        try:
            img.seek(frame)
        except (EOFError, ValueError) as exc:
            raise LoaderError(source, f"the image has no page {frame + 1}") from exc
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


def read_image_file(path: Path, frame: int = 0) -> Image.Image:
    return decode_image(path, path, frame)


def render_pdf_page(path: Path, page: int, scale: float = DEFAULT_RENDER_SCALE) -> Image.Image:
    """Render 1-based ``page`` of a PDF with pdfium (what Chrome uses: robust on odd PDFs)."""
    import pypdfium2 as pdfium

    if scale <= 0:
        raise InvalidArgument(f"render scale must be > 0, got {scale}")
    with PDFIUM_LOCK:
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


def fit_render_scale(width_pt: float, height_pt: float, scale: float, max_pixels: int = MAX_IMAGE_PIXELS) -> float | None:
    """The largest scale up to ``scale`` at which a page of this size (in points)
    renders within ``max_pixels``, or None when even that leaves a side under one
    pixel (or the size is not a size). Decided before rendering: the bitmap is
    allocated whole, so a 200,000-point MediaBox at 2x would ask for 640 GB."""
    if not (math.isfinite(width_pt) and math.isfinite(height_pt)) or width_pt <= 0 or height_pt <= 0:
        return None
    fitted = min(scale, math.sqrt(max_pixels / (width_pt * height_pt)))
    # a side rounded up by the renderer must not push the total over the cap
    while math.ceil(width_pt * fitted) * math.ceil(height_pt * fitted) > max_pixels:
        fitted *= 0.999
    return fitted if min(width_pt, height_pt) * fitted >= 1 else None


def page_render_scale(
    pdf_page, path: Path, page: int, scale: float, max_pixels: int = MAX_IMAGE_PIXELS
) -> float:  # pdf_page: pypdfium2.PdfPage
    """The scale ``pdf_page`` will be rendered at: ``scale``, or less to stay within
    ``max_pixels``. The size is pdfium's own (MediaBox/CropBox in points;
    pdfium ignores /UserUnit, so that is what it allocates). Raises
    ``RenderTooLargeError`` when no scale fits."""
    width, height = pdf_page.get_size()
    fitted = fit_render_scale(width, height, scale, max_pixels)
    if fitted is None:
        raise RenderTooLargeError(
            path,
            f"page {page} is {width:,.0f} x {height:,.0f} points: too large to render within "
            f"{max_pixels:,} pixels at any legible scale",
        )
    return fitted


def render_open_page(
    pdf, path: Path, page: int, scale: float, max_pixels: int = MAX_IMAGE_PIXELS
) -> Image.Image:  # pdf: pypdfium2.PdfDocument
    """Render a page of an already open pdfium document (the loader keeps one open),
    at ``scale`` or the largest smaller scale within ``max_pixels``."""
    import pypdfium2 as pdfium

    try:
        with PDFIUM_LOCK:
            pdf_page = pdf[page - 1]
            try:
                bitmap = pdf_page.render(scale=page_render_scale(pdf_page, path, page, scale, max_pixels))
                # closed here, inside the lock (its finalizer would call pdfium from whichever
                # thread drops it); safe: an opaque render is BGR, which to_pil() copies
                # (PIL shares the buffer only for RGBA/RGBX/L)
                image = bitmap.to_pil()
                bitmap.close()
                return image
            finally:
                pdf_page.close()
    except (pdfium.PdfiumError, ValueError, MemoryError) as exc:
        raise LoaderError(path, f"page {page} failed to render: {exc}") from exc

