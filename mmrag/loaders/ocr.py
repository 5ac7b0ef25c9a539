"""OCR with rapidocr (the ``ocr`` extra): its ONNX models ship inside the wheel,
so it works offline. Optional: without it loaders still load, and mark what they
could not read with the metadata key ``OCR_SKIPPED`` so the ingest report can say so."""

from __future__ import annotations

import importlib.util
import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from mmrag.errors import MissingDependencyError

if TYPE_CHECKING:
    from PIL import Image

# Metadata key a loader sets on an element whose text it could not OCR because
# the extra is missing; its value says what it is ("page" or "image").
OCR_SKIPPED = "ocr_skipped"
# Recognised lines below this confidence are dropped: they are mostly noise
# read from photos and textures, which would pollute BM25.
MIN_CONFIDENCE = 0.75

_lock = threading.Lock()


def ocr_available() -> bool:
    """True when rapidocr and onnxruntime are installed."""
    return all(importlib.util.find_spec(m) is not None for m in ("rapidocr", "onnxruntime"))


@lru_cache(maxsize=1)
def _engine() -> Any:
    if not ocr_available():
        raise MissingDependencyError("rapidocr", "ocr", "OCR of scanned pages and images")
    import logging

    from rapidocr import RapidOCR

    engine = RapidOCR()
    logging.getLogger("RapidOCR").setLevel(logging.ERROR)  # it logs every call, and "no text found" as a warning
    return engine


def ocr_image(image: Image.Image) -> str:
    """The text in ``image``, one recognised line per line, top to bottom.

    Raises ``MissingDependencyError`` when the ``ocr`` extra is not installed.
    """
    import numpy as np

    engine = _engine()
    array = np.asarray(image.convert("RGB"))
    with _lock:  # one engine instance; onnxruntime sessions are not re-entrant here
        result = engine(array)
    texts = result.txts or ()
    scores = result.scores or (1.0,) * len(texts)
    boxes = result.boxes if result.boxes is not None else [None] * len(texts)
    lines = [(box, t) for box, t, s in zip(boxes, texts, scores) if s >= MIN_CONFIDENCE and t.strip()]
    return "\n".join(t.strip() for _, t in _reading_order(lines))


def _reading_order(lines: list[tuple[Any, str]]) -> list[tuple[Any, str]]:
    """Sort by line (top) then left, grouping boxes whose tops are within half a line height."""
    if not lines or lines[0][0] is None:
        return lines
    keyed = []
    for box, text in lines:
        ys = [float(p[1]) for p in box]
        xs = [float(p[0]) for p in box]
        keyed.append((min(ys), max(ys) - min(ys), min(xs), text, box))
    keyed.sort(key=lambda k: (k[0], k[2]))
    out: list[tuple[float, float, Any, str]] = []
    row_top, row_height = None, 0.0
    for top, height, left, text, box in keyed:
        if row_top is None or top - row_top > max(row_height, height) / 2:
            row_top, row_height = top, height
        out.append((row_top, left, box, text))
    out.sort(key=lambda k: (k[0], k[1]))
    return [(box, text) for _, _, box, text in out]


def ocr_skipped_note(metadatas: Iterable[Mapping[str, Any]]) -> str | None:
    """The ingest-report note for elements/chunks marked ``OCR_SKIPPED``, or None."""
    kinds = Counter(str(m[OCR_SKIPPED]) for m in metadatas if m.get(OCR_SKIPPED))
    if not kinds:
        return None
    what = " and ".join(f"{n} {kind}{'s' if n != 1 else ''}" for kind, n in sorted(kinds.items()))
    return f"{what} not OCR'd, so any text in them is not searchable (pip install 'mmrag[ocr]')"
