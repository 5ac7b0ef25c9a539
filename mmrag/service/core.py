"""What the MCP server and the HTTP service do, once, on a warm ``mmrag.Index``.

Both front ends call this: the same validation, the same messages, the same hit
contract (``Hit.to_dict``). Calls are serialised by a lock because the store
clients (Milvus Lite above all) are not safe to share between threads, and both
servers run tool calls in worker threads.
"""

from __future__ import annotations

import io
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mmrag.errors import FilterError, MmragError
from mmrag.ingest.walk import contained
from mmrag.stores import SearchMode
from mmrag.stores.filters import Filter, Filters, to_filter
from mmrag.types import Chunk, Hit, ImageKind, ImageRef, Modality

if TYPE_CHECKING:
    from mmrag.index import Index

MAX_K = 50
MAX_QUERY_CHARS = 2000  # about 400 words: longer "queries" are documents pasted by mistake
MIN_IMAGE_SIDE, MAX_IMAGE_SIDE = 64, 2048
DEFAULT_IMAGE_SIDE = 1024  # a page stays legible to a multimodal model; about 150 KB as JPEG
MAX_NEIGHBOURS = 6
MAX_DOC_CHUNKS = 20_000  # fetch reads a document's chunk ids to find neighbours; bounded


class RequestError(MmragError, ValueError):
    """A request the service refuses: the message says which argument and what is allowed."""


def out_of_range(name: str, got: object, low: int, high: int) -> RequestError:
    """The one sentence every front end gives for a count out of its bounds (``k``, ``max_side``)."""
    return RequestError(f"{name} must be an integer from {low} to {high}, got {got!r}")


class NotFound(MmragError, LookupError):
    """No chunk with this id (it may have been re-ingested under a new id)."""


class Service:
    """Search, fetch, look at and (when allowed) ingest through one warm index.

    ``allow_ingest``: the one folder ``ingest`` may read; ``None`` keeps the
    service read-only.
    """

    def __init__(self, index: Index, *, allow_ingest: str | Path | None = None, image_cache: int = 64) -> None:
        self.index = index
        self.ingest_root = Path(allow_ingest).expanduser().resolve() if allow_ingest is not None else None
        if self.ingest_root is not None and not self.ingest_root.is_dir():
            raise RequestError(f"--allow-ingest {allow_ingest}: not a folder")
        self._lock = threading.Lock()
        self._images: OrderedDict[tuple[str, int], bytes] = OrderedDict()
        self._image_cache = image_cache

    @property
    def read_only(self) -> bool:
        return self.ingest_root is None

    def search(
        self,
        query: str | None,
        k: int = 8,
        mode: str = "hybrid",
        filters: Filters | None = None,
        image_path: str | None = None,
    ) -> list[dict[str, Any]]:
        """Hits as the ``mmrag search --json`` contract."""
        text = (query or "").strip()
        if len(text) > MAX_QUERY_CHARS:
            raise RequestError(f"query is {len(text)} characters; the limit is {MAX_QUERY_CHARS}: search for the key phrase")
        if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= MAX_K:
            raise out_of_range("k", k, 1, MAX_K)
        parsed_mode = SearchMode.parse(mode)
        checked = check_filters(filters or {})
        image = None
        if image_path:
            image = Path(image_path).expanduser()
            if not image.is_file():
                raise RequestError(f"image_path {image_path}: no such file")
        with self._lock:
            hits = self.index.search(text or None, k, image=image, mode=parsed_mode, filters=checked)
        return [h.to_dict() for h in hits]

    def chunk(self, chunk_id: str) -> Chunk:
        if not isinstance(chunk_id, str) or not re.fullmatch(r"[0-9A-Za-z_-]{1,128}", chunk_id):
            raise RequestError(f"chunk_id {chunk_id!r} is not an id: pass a chunk_id from a search hit")
        with self._lock:
            found = self.index.store.get([chunk_id])
        if not found:
            raise NotFound(f"no chunk {chunk_id} in collection '{self.index.store.collection}': search again, "
                           "the file may have been re-ingested")
        return found[0]

    def fetch(self, chunk_id: str) -> dict[str, Any]:
        """The chunk (hit contract, score 0) and its neighbours in the same page,
        slide or time window, in reading order."""
        chunk = self.chunk(chunk_id)
        with self._lock:
            ids = sorted(self.index.store.chunk_ids(chunk.doc_id) - {chunk.id})[:MAX_DOC_CHUNKS]
            others = self.index.store.get(ids) if ids else []
        near = sorted((c for c in others if _same_place(chunk, c)), key=_reading_order)
        if chunk.start is not None:  # the nearest windows first, then back in time order
            near = sorted(sorted(near, key=lambda c: abs(c.start - chunk.start))[:MAX_NEIGHBOURS], key=_reading_order)
        return {"chunk": as_dict(chunk), "neighbours": [as_dict(c) for c in near[:MAX_NEIGHBOURS]]}

    def image(self, chunk_id: str, max_side: int = DEFAULT_IMAGE_SIDE) -> bytes:
        """A JPEG of the chunk's page render, picture, slide picture or keyframe,
        at most ``max_side`` pixels on its longer side (rendered once, then cached)."""
        if not isinstance(max_side, int) or isinstance(max_side, bool) or not MIN_IMAGE_SIDE <= max_side <= MAX_IMAGE_SIDE:
            raise out_of_range("max_side", max_side, MIN_IMAGE_SIDE, MAX_IMAGE_SIDE)
        key = (chunk_id, max_side)
        if key in self._images:
            self._images.move_to_end(key)
            return self._images[key]
        chunk = self.chunk(chunk_id)
        ref = self._picture_of(chunk)
        from mmrag.loaders.image_refs import open_image

        picture = open_image(ref, render_scale=1.5).convert("RGB")
        picture.thumbnail((max_side, max_side))
        buf = io.BytesIO()
        picture.save(buf, format="JPEG", quality=85)
        data = buf.getvalue()
        self._images[key] = data
        while len(self._images) > self._image_cache:
            self._images.popitem(last=False)
        return data

    def _picture_of(self, chunk: Chunk) -> ImageRef:
        """The picture a chunk stands for: its own image, the first image of its
        page or slide, or (PDF text) the page render."""
        if chunk.image is not None:
            return chunk.image
        for image_id in chunk.metadata.get("image_ids") or []:
            with self._lock:
                found = self.index.store.get([image_id])
            if found and found[0].image is not None:
                return found[0].image
        if chunk.page is not None and Path(chunk.source).suffix.lower() == ".pdf":
            return ImageRef(chunk.source, ImageKind.PAGE_RENDER, page=chunk.page)
        place = f"slide {chunk.slide}" if chunk.slide else "its place"
        raise NotFound(f"chunk {chunk.id} ({Path(chunk.source).name}, {place}) has no picture: "
                       "it is text only; fetch gives its text and neighbours")

    def source_path(self, chunk_id: str) -> Path:
        """The file a chunk was ingested from, for the search page's links. Only a source the
        index holds is ever served (looked up by chunk id, never by a path from the request),
        and only while it is still a regular file there."""
        source = Path(self.chunk(chunk_id).source)
        if not source.is_file():
            raise NotFound(f"{source} is not on disk any more (or is a part of another file): "
                           "re-ingest it, or open it from where it now is")
        return source

    def sources(self) -> list[dict[str, Any]]:
        """What ``mmrag sources --json`` prints."""
        with self._lock:
            found = self.index.store.sources()
        return [s.to_dict() for s in found]

    def ingest(self, paths: Sequence[str]) -> dict[str, Any]:
        """Ingest files or folders under the allowed folder; the report as ``mmrag ingest --json``."""
        if self.ingest_root is None:
            raise RequestError("this server is read-only: start it with --allow-ingest DIR to let it ingest files under DIR")
        if not paths or isinstance(paths, str):
            raise RequestError("paths must be a non-empty list of files or folders under " + str(self.ingest_root))
        resolved = [contained(self.ingest_root / p, self.ingest_root) for p in paths]
        with self._lock:  # links inside the folders that lead out of them are skipped, with a note
            report = self.index.ingest(resolved)
        self._images.clear()
        return report.to_dict()


def check_filters(filters: Filters) -> Filter | None:
    """The filter a request may send is any the core takes (``mmrag.stores.filters.to_filter``:
    ``{"page": 3}``, ``{"source": ["a.pdf", "b.pdf"]}``, ``{"page": {"$gte": 2}}``, ``$and/$or/$not``);
    its ``FilterError`` becomes the service's ``RequestError`` with the same words."""
    try:
        return to_filter(filters)
    except FilterError as exc:
        raise RequestError(str(exc)) from None


def as_dict(chunk: Chunk) -> dict[str, Any]:
    """A stored chunk in the hit contract (no search ran: score 0)."""
    return Hit(chunk, 0.0).to_dict()


def _same_place(chunk: Chunk, other: Chunk) -> bool:
    if chunk.start is not None and other.start is not None:
        span = max(chunk.end - chunk.start, 1.0)
        return other.end >= chunk.start - span and other.start <= chunk.end + span
    return (chunk.page, chunk.slide) == (other.page, other.slide) and (chunk.page or chunk.slide) is not None


def _reading_order(c: Chunk) -> tuple:
    return (c.page or 0, c.slide or 0, c.start or 0.0, c.modality is not Modality.TEXT, c.text)
