"""OCR with rapidocr (the ``ocr`` extra): its ONNX models ship inside the wheel,
so it works offline. Optional: without it loaders still load, and mark what they
could not read with the metadata key ``OCR_SKIPPED`` so the ingest report can say so.

OCR is the slowest step of ingestion by far, so it runs only where it pays:
each distinct picture is read once (``mmrag.loaders.ocr_cache``), and pictures
that cannot hold readable text (tiny, or flat: one colour or a smooth gradient)
are not read at all (``ocr_picture``). Scanned pages are always read.
"""

from __future__ import annotations

import importlib.util
import re
import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from mmrag.errors import MissingDependencyError
from mmrag.loaders.ocr_cache import current_cache

if TYPE_CHECKING:
    from PIL import Image

# Metadata key a loader sets on an element whose text it could not OCR because
# the extra is missing; its value says what it is ("page" or "image").
OCR_SKIPPED = "ocr_skipped"
# Recognised lines below this confidence are dropped: they are mostly noise
# read from photos and textures, which would pollute BM25.
MIN_CONFIDENCE = 0.75
# Pictures smaller than this hold no line of text OCR can read (icons, bullets, rules).
MIN_PICTURE_SIDE = 20
MIN_PICTURE_PIXELS = 48 * 48
# A picture whose thumbnail (at most FLAT_THUMB pixels a side) has fewer than this
# share of strong edges is one colour or a smooth gradient: a background, no text.
# A 20-character label in a corner of a 1920x1080 background still clears it.
FLAT_THUMB = 512
FLAT_EDGE_SHARE = 0.0005
_EDGE_LEVEL = 48
# rapidocr settings (its dotted config keys) that decide the text, part of every cache key.
# Chosen on twelve real 150-dpi scans of Debian's manuals OCR'd from the 1.0x render
# (benchmarks/loaders_ocr.py --settings, 2026-12-02, shared 2-core machine at load
# 4.7-14, one onnxruntime thread): 3.81 CPU s a page against 6.19 for BASELINE_PARAMS
# (0.61x; wall 6.81 vs 10.48 s), word recall 0.9932 against 0.9961. Recognition is
# ~80% of the cost and grows with each line crop's width over its height, so taller
# crops (unclip_ratio 2.0, rapidocr's 1.6) recognise fewer columns: 4.83 CPU s a page
# against 5.36 in runs at load 17-40. A smaller detection input (Det.limit_type "max",
# 960) kept 0.9924 alone but 0.9907 with it; rec_batch_num 24 cost more CPU (6.21 vs 4.42).
_ENGINE_PARAMS: dict[str, Any] = {
    "Global.use_cls": False,  # the angle classifier: pages and slides are upright
    "Det.unclip_ratio": 2.0,
}
# How many onnxruntime threads OCR uses, which changes only its cost, not the text (so
# it is not part of the cache key). None: rapidocr's default, one per core, which is
# the fastest alone: on the idle 2-core machine (loaders_ocr --settings, 2026-12-02,
# load 1.0) one thread took 3.57 wall s a page against 2.18 (1.63x) for 0.84x the CPU.
# The overlapped read worker, which OCRs while the main process embeds on the other
# core, asks for one (``share_cores``) so the two do not spin on each other's core.
_threads: int | None = None


def share_cores(shared: bool = True) -> None:
    """OCR on one thread in this process from now on (``shared=False``: one per core
    again): for a worker that runs beside another busy process (the overlapped read worker)."""
    global _threads
    _threads = 1 if shared else None
    _engine.cache_clear()


def speed_params() -> dict[str, Any]:
    """The rapidocr settings that change only speed, as this process runs OCR."""
    return {} if _threads is None else {"EngineConfig.onnxruntime.intra_op_num_threads": _threads}


# rapidocr's defaults without the classifier (the settings before issue 17's
# measurements): the baseline benchmarks/loaders_ocr.py --settings compares against.
BASELINE_PARAMS: dict[str, Any] = {"Global.use_cls": False}

_lock = threading.Lock()


def ocr_available() -> bool:
    """True when rapidocr and onnxruntime are installed."""
    return all(importlib.util.find_spec(m) is not None for m in ("rapidocr", "onnxruntime"))


@lru_cache(maxsize=1)
def _engine() -> Any:
    return build_engine({**_ENGINE_PARAMS, **speed_params()})


def build_engine(params: Mapping[str, Any]) -> Any:
    """A rapidocr engine with ``params`` over its defaults (the benchmarks build
    the baseline and today's engines side by side with it)."""
    if not ocr_available():
        raise MissingDependencyError("rapidocr", "ocr", "OCR of scanned pages and images")
    import logging

    from rapidocr import RapidOCR

    engine = RapidOCR(params=dict(params))
    logging.getLogger("RapidOCR").setLevel(logging.ERROR)  # it logs every call, and "no text found" as a warning
    return engine


@lru_cache(maxsize=1)
def _salt() -> str:
    from importlib.metadata import version

    return f"rapidocr {version('rapidocr')}|{sorted(_ENGINE_PARAMS.items())}|{MIN_CONFIDENCE}"


def ocr_image(image: Image.Image) -> str:
    """The text in ``image``, one recognised line per line, top to bottom; an
    image seen before (same pixels) is answered from the OCR cache.

    Raises ``MissingDependencyError`` when the ``ocr`` extra is not installed.
    """
    _engine()  # the missing-extra error before any hashing
    return current_cache().text(image, _read, _salt())


def ocr_picture(image: Image.Image) -> tuple[str, str | None]:
    """OCR for a picture (not a scanned page): ``(text, None)``, or ``("", why)``
    when the picture cannot hold readable text and was not read."""
    reason = unreadable_reason(image)
    if reason:
        return "", reason
    return ocr_image(image), None


def only_new_text(found: str, page_text: str, share: float = 0.9) -> str:
    """``found`` (OCR text of a picture), or "" when ``share`` of its words are
    already in ``page_text``: a picture of the slide's own text adds nothing to BM25."""
    words = re.findall(r"\w+", found.lower())
    if not words:
        return found
    have = set(re.findall(r"\w+", page_text.lower()))
    return "" if sum(w in have for w in words) >= share * len(words) else found


def unreadable_reason(image: Image.Image) -> str | None:
    """Why OCR would find no text in ``image`` ("too small", "flat"), or None."""
    from PIL import ImageFilter

    width, height = image.size
    if min(width, height) < MIN_PICTURE_SIDE or width * height < MIN_PICTURE_PIXELS:
        return "too small"
    thumb = image.convert("L")
    thumb.thumbnail((FLAT_THUMB, FLAT_THUMB))
    if thumb.width < 3 or thumb.height < 3:
        return "too small"
    # FIND_EDGES pads with zeros, so the one-pixel frame would count as edges: crop it
    edges = thumb.filter(ImageFilter.FIND_EDGES).crop((1, 1, thumb.width - 1, thumb.height - 1))
    strong = sum(edges.histogram()[_EDGE_LEVEL:])
    if strong < FLAT_EDGE_SHARE * edges.width * edges.height:
        return "flat"
    return None


def _read(image: Image.Image) -> str:
    import numpy as np

    engine = _engine()
    array = np.asarray(image.convert("RGB"))
    with _lock:  # one engine instance; onnxruntime sessions are not re-entrant here
        result = engine(array)
    return result_text(result)


def result_text(result: Any) -> str:
    """The confident lines of a rapidocr result in reading order, one a line."""
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
