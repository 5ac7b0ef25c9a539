"""Image inputs for embedders: paths, bytes, ``PIL.Image`` and ``ImageRef``, checked and decoded.

Every embedder opens images through ``open_image`` so a bad input fails the
same way everywhere: a ``BadImageError`` naming the input and the problem
(truncated, empty, zero-size, over the pixel cap), never a PIL traceback. URLs
are refused on purpose: an embedder that fetches would leak queries and make
ingestion depend on the network.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, Union

from mmrag.errors import InvalidArgument, LoaderError, MmragError
from mmrag.types import ImageRef

if TYPE_CHECKING:
    from PIL import Image

ImageInput = Union[str, os.PathLike, bytes, bytearray, memoryview, "Image.Image", ImageRef]
ImageLoader = Callable[[ImageRef], Any]
"""Resolves an ``ImageRef`` to an image (a ``PIL.Image`` or anything ``open_image`` accepts)."""

DEFAULT_MAX_PIXELS = 64_000_000
"""The pixel cap: larger images are refused before decoding (a 64 MP RGB image is ~190 MB decoded)."""

T = TypeVar("T")
R = TypeVar("R")


class BadImageError(LoaderError):
    """An image input that cannot be embedded; the message names the input and the problem."""


def describe(item: Any) -> str:
    """A short name for an input in error messages (a path, or what kind of object it is)."""
    if isinstance(item, (str, os.PathLike)):
        return str(item)
    if isinstance(item, (bytes, bytearray, memoryview)):
        return f"<{len(item)} bytes>"
    if isinstance(item, ImageRef):
        where = [f"page {item.page}" if item.page else "", f"slide {item.slide}" if item.slide else ""]
        index = f"image {item.index}" if item.index is not None else ""
        return " ".join(p for p in (item.source, item.kind.value, *where, index) if p)
    size = getattr(item, "size", None)
    return f"<{type(item).__name__} {size[0]}x{size[1]}>" if size else f"<{type(item).__name__}>"


def default_image_loader() -> ImageLoader:
    """``mmrag.loaders.image_refs.open_image``, imported only when an ``ImageRef`` must be resolved."""
    try:
        from mmrag.loaders.image_refs import open_image as open_ref
    except ImportError as exc:
        raise MmragError(
            "resolving an ImageRef needs mmrag.loaders.image_refs.open_image, which is not available "
            f"({exc}); pass image_loader=<callable ImageRef -> PIL.Image> instead"
        ) from None
    return open_ref


def is_url(text: str) -> bool:
    return text.strip().lower().startswith(("http://", "https://"))


def open_image(
    item: ImageInput,
    *,
    image_loader: ImageLoader | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    decode_size: Callable[[tuple[int, int]], tuple[int, int]] | None = None,
) -> Image.Image:
    """A decoded RGB ``PIL.Image`` for ``item``, or ``BadImageError`` naming it.

    ``decode_size`` maps the stored ``(width, height)`` to the smallest size the
    caller will use; JPEGs are then decoded at a reduced DCT scale no smaller
    than that (PIL ``draft``), which is several times cheaper than a full decode
    followed by a downscale.
    """
    from PIL import Image

    name = describe(item)
    if isinstance(item, ImageRef):
        loader = image_loader or default_image_loader()
        try:
            resolved = loader(item)
        except MmragError:
            raise
        except Exception as exc:  # a loader's own failure, reported against the reference
            raise BadImageError(name, f"could not load the referenced image: {exc}") from exc
        if isinstance(resolved, ImageRef):
            raise BadImageError(name, "the image_loader returned another ImageRef instead of an image")
        return _decode(resolved, name, max_pixels, decode_size, owned=True)  # errors name the reference
    # never draft() a caller's PIL image: it would shrink their object
    return _decode(item, name, max_pixels, decode_size, owned=not isinstance(item, Image.Image))


def _decode(
    item: Any,
    name: str,
    max_pixels: int,
    decode_size: Callable[[tuple[int, int]], tuple[int, int]] | None,
    owned: bool,
) -> Image.Image:
    from PIL import Image, ImageOps

    image = _open_lazily(item, name)
    width, height = image.size
    if width == 0 or height == 0:
        raise BadImageError(name, f"image has zero size ({width}x{height})")
    if width * height > max_pixels:
        raise BadImageError(
            name, f"image is {width}x{height} = {width * height:,} pixels, over the cap of {max_pixels:,} (max_pixels)"
        )
    if owned and decode_size is not None and image.format == "JPEG":
        image.draft("RGB", decode_size(image.size))
    try:
        image.load()
        image = ImageOps.exif_transpose(image)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise BadImageError(name, f"cannot decode image: {exc}") from exc
    return to_rgb(image)


def _open_lazily(item: Any, name: str) -> Image.Image:
    """Open without decoding, so size checks happen before pixels are read."""
    from PIL import Image, UnidentifiedImageError

    if isinstance(item, Image.Image):
        return item
    if isinstance(item, str) and is_url(item):
        raise BadImageError(name, "mmrag never fetches URLs; download the image and pass its path or bytes")
    if isinstance(item, (str, os.PathLike)):
        path = Path(item)
        if not path.is_file():
            raise BadImageError(name, "no such image file")
        if path.stat().st_size == 0:
            raise BadImageError(name, "empty file (0 bytes)")
        source: Any = path
    elif isinstance(item, (bytes, bytearray, memoryview)):
        if len(item) == 0:
            raise BadImageError(name, "empty image bytes")
        source = io.BytesIO(bytes(item))
    else:
        raise BadImageError(name, "not an image input; pass a path, bytes, a PIL.Image or an ImageRef")
    try:
        return Image.open(source)
    except Image.DecompressionBombError as exc:
        raise BadImageError(name, f"image is over PIL's decompression-bomb limit: {exc}") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise BadImageError(name, f"not a readable image: {exc}") from exc


def to_rgb(image: Image.Image) -> Image.Image:
    """RGB with any transparency composited onto white, as transformers' processors do."""
    from PIL import Image

    if image.mode == "RGB":
        return image
    if "A" in image.getbands() or image.info.get("transparency") is not None:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def prefetched(
    items: Sequence[T], batch_size: int, prepare: Callable[[T], R], workers: int = 2
) -> Iterator[list[R]]:
    """Batches of ``prepare(item)``, the next batch prepared in threads while the caller uses this one.

    Image decoding and resizing release the GIL in PIL, so with one batch of
    lookahead the model computes batch *i* while threads decode batch *i+1*.
    Order is kept; the first error raised by ``prepare`` propagates.
    """
    if batch_size < 1:
        raise InvalidArgument(f"batch_size must be >= 1, got {batch_size}")
    starts = range(0, len(items), batch_size)
    if workers < 1:
        for start in starts:
            yield [prepare(x) for x in items[start : start + batch_size]]
        return
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mmrag-decode") as pool:

        def submit(start: int) -> list[Future[R]]:
            return [pool.submit(prepare, x) for x in items[start : start + batch_size]]

        pending = submit(0) if len(items) else []
        for start in starts:
            current = pending
            nxt = start + batch_size
            pending = submit(nxt) if nxt < len(items) else []
            try:
                yield [f.result() for f in current]
            except BaseException:
                for f in pending:
                    f.cancel()
                raise
