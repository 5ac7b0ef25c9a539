"""OCR of the pictures inside documents: slides, Word, web pages, e-books and
OpenDocument files all go through ``read_picture``, so every format skips the
same pictures (tiny, flat, text already beside it), reads each distinct one
once (``ocr_cache``) and records the outcome under the same metadata keys.

Document loaders, whose pictures have no slide to measure, pass their stream
through ``ocr_pictures``: it OCRs each IMAGE element against the text of its
container (the section its chunk is linked with, ``chunking.container_key``),
so a picture of the heading above it adds nothing, and the found text lands on
the picture's chunk, which already cites its heading path and links its text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from itertools import groupby
from pathlib import Path
from typing import Any

from mmrag.chunking.chunker import container_key
from mmrag.errors import LoaderError
from mmrag.loaders.decoding import decode_image
from mmrag.loaders.ocr import OCR_SKIPPED, ocr_available, ocr_picture, only_new_text
from mmrag.types import Element, ImageRef, Modality

# The picture's encoded bytes, or a path to them; None when it has none (a linked picture).
PictureData = Callable[[ImageRef], bytes | Path | None]


def read_picture(data: Callable[[], bytes | Path | None], what: str, context: str) -> dict[str, Any]:
    """The metadata a picture's OCR adds: ``ocr_text`` (only text ``context`` does
    not already hold: the text around it, its alt text), ``ocr_skip`` (why it was not read), ``ocr_error`` (it could
    not be decoded: EMF, a linked picture), or ``OCR_SKIPPED`` without the extra.

    ``data`` is called only when OCR will run; ``what`` names the picture in errors.
    """
    if not ocr_available():
        return {OCR_SKIPPED: "image"}
    try:
        raw = data()
        if raw is None:
            return {"ocr_error": f"{what}: linked, not embedded"}
        image = decode_image(raw, what)
    except (LoaderError, ValueError, KeyError, OSError) as exc:  # the alt text stays; the note says why no OCR
        return {"ocr_error": str(exc)}
    found, skipped = ocr_picture(image)
    return {"ocr_text": only_new_text(found, context), **({"ocr_skip": skipped} if skipped else {})}


def with_ocr(element: Element, found: dict[str, Any]) -> Element:
    """``element`` with ``found`` (from ``read_picture``) in its metadata and the OCR text after its alt text."""
    text = "\n".join(t for t in (element.text, found.get("ocr_text", "")) if t)
    return replace(element, text=text, metadata={**element.metadata, **found})


def ocr_pictures(elements: Iterable[Element], data: PictureData, what: Callable[[ImageRef], str]) -> Iterator[Element]:
    """``elements`` with each picture's OCR text added (see the module docstring);
    ``data(ref)`` gives a picture's bytes, ``what(ref)`` names it in errors.

    A container is held until its end, as the chunker holds it; table rows stream through."""
    for _, group in groupby(elements, key=container_key):
        first = next(group)
        if first.row_start is not None or first.start is not None:
            yield first
            yield from group
            continue
        items = [first, *group]
        context = "\n".join(e.text for e in items if e.modality is Modality.TEXT)
        for element in items:
            ref = element.image
            if element.modality is Modality.IMAGE and ref is not None:
                element = with_ocr(element, read_picture(lambda ref=ref: data(ref), what(ref), f"{context}\n{element.text}"))
            yield element
