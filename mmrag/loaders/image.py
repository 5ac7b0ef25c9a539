"""Image files: one IMAGE element each, EXIF orientation applied, OCR text attached."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mmrag.loaders.base import Loader
from mmrag.loaders.decoding import read_image_file
from mmrag.loaders.ocr import OCR_SKIPPED, ocr_available, ocr_picture
from mmrag.types import Element, ImageKind, ImageRef, Modality

# Header sizes a real BMP declares at byte 14: checking them keeps a text file
# that happens to start with "BM" from being taken for a bitmap.
_BMP_DIB_SIZES = {12, 40, 52, 56, 64, 108, 124}
_EXIF_IMAGE_DESCRIPTION = 0x010E


@dataclass
class ImageLoader(Loader):
    """PNG, JPEG, WebP, GIF, BMP and TIFF, recognised by their magic bytes.

    Example::

        [element] = ImageLoader().load(Path("figure.png"), "figure.png")
        element.text          # OCR text ("" for a photo without text)
        element.image         # ImageRef(kind=FILE): the file itself

    A multi-page TIFF gives one element per page (``page`` 1, 2, ...).

    The image is decoded once here (to catch truncated files and bombs, and for
    OCR); chunks keep only the reference.
    """

    ocr: bool = True

    name = "image"
    extensions = frozenset({".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp", ".tif", ".tiff"})
    signatures = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"II*\x00", b"MM\x00*", b"RIFF", b"BM")

    def sniff(self, head: bytes, path: Path) -> bool:
        if head.startswith(b"RIFF"):
            return head[8:12] == b"WEBP"
        if head.startswith(b"BM"):
            return len(head) >= 18 and int.from_bytes(head[14:18], "little") in _BMP_DIB_SIZES
        return super().sniff(head, path)

    def load(self, path: Path, source: str) -> Iterator[Element]:
        first = read_image_file(path)
        sha1 = hashlib.sha1(path.read_bytes()).hexdigest()
        # a multi-page TIFF (a fax, a scanned document): one element per page, each with its page number
        pages = tiff_pages(path)
        for n in range(pages):
            image = first if n == 0 else read_image_file(path, n)
            yield self._element(image, source, path.name, sha1, n + 1 if pages > 1 else None)

    def _element(self, image, source: str, name: str, sha1: str, page: int | None) -> Element:  # image: PIL.Image.Image
        caption = embedded_caption(image)
        meta: dict[str, Any] = {"document_title": name, "width": image.width, "height": image.height, "sha1": sha1}
        if caption:
            meta["caption"] = caption
        ocr_text = ""
        if self.ocr:
            if ocr_available():
                ocr_text, skipped = ocr_picture(image)
                meta["ocr_text"] = ocr_text
                if skipped:
                    meta["ocr_skip"] = skipped
            else:
                meta[OCR_SKIPPED] = "image"
        return Element(
            source=source,
            modality=Modality.IMAGE,
            text="\n".join(t for t in (caption, ocr_text) if t),
            image=ImageRef(source=source, kind=ImageKind.FILE, page=page),
            metadata=meta,
            page=page,
        )


def tiff_pages(path: Path) -> int:
    """How many pages a TIFF holds (1 for any other format); reads headers only."""
    from PIL import Image

    with Image.open(path) as image:
        return getattr(image, "n_frames", 1) if image.format == "TIFF" else 1


def embedded_caption(image) -> str:  # image: PIL.Image.Image
    """A caption the file carries itself: EXIF ImageDescription, or a PNG/GIF text
    chunk named Description, Title or Caption (what cameras and editors write)."""
    try:
        described = image.getexif().get(_EXIF_IMAGE_DESCRIPTION)
    except Exception:  # a broken EXIF block must not cost the image
        described = None
    if isinstance(described, bytes):
        described = described.decode("utf-8", "replace")
    if isinstance(described, str) and described.strip(" \x00"):
        return described.strip(" \x00")
    for key in ("Description", "Title", "Caption", "description", "title", "caption"):
        value = image.info.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""
