"""Elements to Chunks: group by container (page, slide, section), window, add context.

Chunking (where the boundaries go) and contextualising (what header is embedded
with a chunk) are separate steps, so each can change without the other.
Within a container, text and pictures are tied both ways: a text chunk lists
the ids of the container's image chunks (``image_ids``) and an image chunk
carries the nearest text of its page/slide and the ids of its text chunks
(``text_ids``), so retrieval can hand a picture back with its text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import chain, groupby
from pathlib import Path
from typing import Any

from mmrag.chunking.rows import row_windows
from mmrag.chunking.transcript import transcript_windows
from mmrag.chunking.windows import Tokenizer, WindowOptions, token_windows
from mmrag.types import Chunk, Element, Modality, cut_heading, stable_id

Boundary = Callable[[Element], object]

# How much of the nearest text an image chunk carries: enough for a caption and
# the paragraph it illustrates, small enough not to drown the image's own text.
NEARBY_CHARS = 500
# Per-element keys that mean nothing once elements are merged into one chunk.
_ELEMENT_ONLY_KEYS = ("role", "speaker")


def container_key(element: Element) -> object:
    """Text is never merged across a page, a slide, a section, a sheet or a table
    (``metadata["table"]``); timed elements (transcript cues) and table rows form
    containers of their own."""
    return (
        element.page, element.slide, element.title_path, element.start is not None,
        element.sheet, element.row_start is not None, element.metadata.get("table"),
    )


# The context header is cut at this many characters, its document title at
# MAX_HEADING_CHARS like every heading (mmrag.types): the header is embedded and
# stored with each chunk, and must leave the chunk's own text room in the store.
MAX_CONTEXT_CHARS = 1000


def location_metadata(element: Element) -> dict[str, Any]:
    """The location keys a chunk keeps in its metadata (see ``Chunk``): the heading
    path as one filterable string, and the sheet."""
    out: dict[str, Any] = {}
    if element.title_path:
        out["heading"] = cut_heading(" > ".join(element.title_path), MAX_CONTEXT_CHARS)
    if element.sheet is not None:
        out["sheet"] = element.sheet
    return out


def contextualize(document_title: str, title_path: tuple[str, ...], page: int | None, slide: int | None) -> str:
    """The header embedded with a chunk: document > sections > page/slide, each
    part at most MAX_HEADING_CHARS and the whole at most MAX_CONTEXT_CHARS."""
    parts = [cut_heading(p) for p in (document_title, *title_path)]
    if slide is not None:
        parts.append(f"slide {slide}")
    if page is not None:
        parts.append(f"page {page}")
    return cut_heading(" > ".join(p for p in parts if p), MAX_CONTEXT_CHARS)


@dataclass
class Chunker:
    """Turns one source's elements into chunks with stable ids.

    Example::

        chunker = Chunker(embedder.tokenizer, WindowOptions(max_tokens=200, overlap=40))
        chunks = list(chunker.chunk(doc_id, elements))

    Ids depend only on the document, the location and the content, so an
    unchanged file gives the same ids in every run.
    """

    tokenizer: Tokenizer
    options: WindowOptions = WindowOptions()
    boundary: Boundary = container_key

    def chunk(self, doc_id: str, elements: Iterable[Element]) -> Iterator[Chunk]:
        for _, group in groupby(elements, key=self.boundary):
            first = next(group)
            if first.row_start is not None:  # rows stream: a big sheet is never held whole
                yield from self._chunk_rows(doc_id, chain([first], group))
                continue
            items = [first, *group]
            if first.start is not None:
                yield from self._chunk_transcript(doc_id, items)
            else:
                yield from self._chunk_group(doc_id, items)

    def _chunk_group(self, doc_id: str, group: list[Element]) -> Iterator[Chunk]:
        first = group[0]
        context = contextualize(_title(first), first.title_path, first.page, first.slide)
        texts = [e for e in group if e.modality is Modality.TEXT]
        body = "\n\n".join(e.text for e in texts)
        spans = token_windows(body, self.tokenizer, self.options) if texts else []
        text_ids = [
            stable_id(doc_id, Modality.TEXT.value, first.page, first.slide, first.title_path, ordinal, body[a:b])
            for ordinal, (a, b) in enumerate(spans)
        ]
        images: list[Chunk] = []
        for position, element in enumerate(group):
            if element.modality is Modality.TEXT:
                continue
            assert element.image is not None
            # A page render's text is its page's text chunks (linked by text_ids):
            # copying it in would make every text hit come back twice.
            nearby = "" if element.modality is Modality.PAGE_IMAGE else _clip(_nearest_text(group, position))
            nearby = "" if nearby and nearby in element.text else nearby  # a caption the loader already attached
            text = "\n".join(t for t in (element.text, nearby) if t)
            # the pixels' digest (when the loader has it) makes an edited picture a new chunk
            # a page render changes with its page, so its page's text is part of its id
            chunk_id = stable_id(
                doc_id, element.modality.value, element.image.to_dict(), text, element.metadata.get("sha1"),
                body if element.modality is Modality.PAGE_IMAGE else "",
            )
            metadata = {
                "title_path": list(element.title_path),
                **location_metadata(element),
                **element.metadata,
                "nearby_text": nearby,
                "text_ids": text_ids,
            }
            images.append(_chunk_of(element, chunk_id, doc_id, text, context, metadata, modality=element.modality))
        image_ids = [c.id for c in images]
        merged = _merged_metadata(texts)
        for chunk_id, (a, b) in zip(text_ids, spans):
            metadata = {"title_path": list(first.title_path), **location_metadata(first), **merged, "image_ids": image_ids}
            yield _chunk_of(first, chunk_id, doc_id, body[a:b], context, metadata)
        yield from images

    def _chunk_rows(self, doc_id: str, rows: Iterator[Element]) -> Iterator[Chunk]:
        first = next(rows)
        table = first.metadata.get("table")
        where = [f"sheet {first.sheet}"] if first.sheet else [f"table {table}"] if table else []
        base = {"title_path": list(first.title_path), **location_metadata(first), **_merged_metadata([first])}
        for window in row_windows(chain([first], rows), self.tokenizer, self.options):
            span = f"row {window.row_start}" if window.row_start == window.row_end else f"rows {window.row_start}-{window.row_end}"
            context = contextualize(_title(first), (*first.title_path, *where, span), first.page, first.slide)
            chunk_id = stable_id(doc_id, "rows", first.sheet, first.title_path, window.row_start, window.row_end, window.text)
            metadata = {**base, "row_start": window.row_start, "row_end": window.row_end}
            yield _chunk_of(first, chunk_id, doc_id, window.text, context, metadata)

    def _chunk_transcript(self, doc_id: str, items: list[Element]) -> Iterator[Chunk]:
        """Time windows over the cues; a video's keyframes (timed image elements)
        are tied to the windows they overlap in time, both ways."""
        first = items[0]
        context = contextualize(_title(first), first.title_path, None, None)
        cues = [e for e in items if e.modality is Modality.TEXT]
        frames = [e for e in items if e.modality is not Modality.TEXT]
        windows = transcript_windows(cues, self.tokenizer, self.options) if cues else []
        merged = _merged_metadata(cues)
        # The ASR model is part of a window's id: a new model that hears the same words
        # still rewrites the chunk, so its asr_model label says which model it came from.
        asr = (merged["asr_model"],) if merged.get("asr_model") else ()
        own_text = [stable_id(doc_id, "transcript", w.start, w.end, w.text, *asr) for w in windows]
        own_frame = [
            stable_id(doc_id, "keyframe", f.image.to_dict() if f.image else None, f.start, f.end, f.text, f.metadata.get("sha1"))
            for f in frames
        ]
        # Each side's id also names what it links to, so a chunk whose links changed (new
        # speech over the same slide) is rewritten rather than kept with stale ids.
        text_ids = [
            _linked(i, [j for f, j in zip(frames, own_frame) if _overlaps(w.start, w.end, f.start, f.end)])
            for w, i in zip(windows, own_text)
        ]
        frame_ids = [
            _linked(i, [j for w, j in zip(windows, own_text) if _overlaps(w.start, w.end, f.start, f.end)])
            for f, i in zip(frames, own_frame)
        ]
        for chunk_id, window in zip(text_ids, windows):
            on_screen = [i for f, i in zip(frames, frame_ids) if _overlaps(window.start, window.end, f.start, f.end)]
            metadata = {
                "title_path": list(first.title_path),
                **merged,
                "speakers": list(window.speakers),
                "cues": [window.first_cue + 1, window.last_cue + 1],
                **({"image_ids": on_screen} if frames else {}),
            }
            yield _chunk_of(first, chunk_id, doc_id, window.text, context, metadata, timed=(window.start, window.end))
        for chunk_id, frame in zip(frame_ids, frames):
            spoken = [i for w, i in zip(windows, text_ids) if _overlaps(w.start, w.end, frame.start, frame.end)]
            metadata = {"title_path": list(frame.title_path), **frame.metadata, "text_ids": spoken}
            yield _chunk_of(
                frame, chunk_id, doc_id, frame.text, context, metadata, modality=frame.modality, timed=(frame.start, frame.end)
            )


def _chunk_of(
    element: Element,
    chunk_id: str,
    doc_id: str,
    text: str,
    context: str,
    metadata: dict[str, Any],
    *,
    modality: Modality = Modality.TEXT,
    timed: tuple[float | None, float | None] | None = None,
) -> Chunk:
    """The one way a chunk is made from an element (the first of its group, or a
    picture): its source and page or slide, or for a transcript the span ``timed``
    in their place; a picture's chunk (``modality`` not text) carries its image."""
    start, end = timed if timed is not None else (None, None)
    return Chunk(
        id=chunk_id,
        doc_id=doc_id,
        source=element.source,
        modality=modality,
        text=text,
        context=context,
        image=None if modality is Modality.TEXT else element.image,
        page=None if timed is not None else element.page,
        slide=None if timed is not None else element.slide,
        start=start,
        end=end,
        metadata=metadata,
    )


def _linked(own: str, links: list[str]) -> str:
    """A chunk's id from its own content id and the content ids it links to (itself when none)."""
    return stable_id(own, *links) if links else own


def _overlaps(a0: float, a1: float, b0: float | None, b1: float | None) -> bool:
    """Two time spans share a moment (a zero-length span counts at its instant)."""
    b0, b1 = float(b0 or 0.0), float(b1 or 0.0)
    return a0 < b1 and b0 < a1 or a0 == a1 and b0 <= a0 <= b1 or b0 == b1 and a0 <= b0 <= a1


def _title(element: Element) -> str:
    return str(element.metadata.get("document_title") or Path(element.source).name)


def _nearest_text(group: list[Element], position: int) -> str:
    """The text element closest to the picture at ``position``: by layout when
    both have boxes (slides), else by reading order, preferring the text before
    it (a caption above or the paragraph it illustrates)."""
    candidates = [(i, e) for i, e in enumerate(group) if e.modality is Modality.TEXT]
    body = [(i, e) for i, e in candidates if e.metadata.get("role") not in ("title", "notes")]
    candidates = body or candidates
    if not candidates:
        return ""
    image = group[position]
    if image.bbox is not None and all(e.bbox is not None for _, e in candidates):
        return min(candidates, key=lambda ie: _box_distance(image.bbox, ie[1].bbox))[1].text  # type: ignore[arg-type]
    return min(candidates, key=lambda ie: (abs(ie[0] - position), ie[0] > position))[1].text


def _box_distance(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """Gap between two boxes (0 when they touch or overlap)."""
    dx = max(b[0] - a[2], a[0] - b[2], 0.0)
    dy = max(b[1] - a[3], a[1] - b[3], 0.0)
    return (dx * dx + dy * dy) ** 0.5


def _clip(text: str) -> str:
    if len(text) <= NEARBY_CHARS:
        return text
    cut = text.rfind(" ", 0, NEARBY_CHARS)
    return text[: cut if cut > 0 else NEARBY_CHARS].rstrip() + " …"


def _merged_metadata(elements: list[Element]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for e in elements:
        merged.update(e.metadata)
    for key in _ELEMENT_ONLY_KEYS:
        merged.pop(key, None)
    return merged
