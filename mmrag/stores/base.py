"""The store interface every backend implements, and the search request it takes."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mmrag.embedding.base import EmbedderSpec
from mmrag.embedding.spaces import take_rows
from mmrag.errors import InvalidArgument, ModelMismatchError, StoreError
from mmrag.retrieval.adaptive import fuse_hits
from mmrag.retrieval.fusion import best_per_chunk, rrf_hits, weighted_hits
from mmrag.stores.filters import Filter, Filters, to_filter
from mmrag.types import ChoiceEnum, Chunk, Hit

if TYPE_CHECKING:
    from mmrag.asr.base import AsrSpec
    from mmrag.manifest import Manifest


class SearchMode(ChoiceEnum):
    """How to rank. ``late``: a first stage (the store's MUVERA encoding or pooled
    vector, + BM25 when there is text, fused by RRF) finds ``depth`` candidates,
    then exact MaxSim over their stored token/patch vectors orders them; it needs
    a query in a multi-vector space. ``hybrid`` with such a query fuses that late
    search (without BM25) with BM25 by the request's fusion."""

    __noun__ = "search mode"

    DENSE = "dense"
    BM25 = "bm25"
    HYBRID = "hybrid"
    LATE = "late"


class Fusion(ChoiceEnum):
    """How hybrid search merges dense and BM25. ``adaptive`` (default) weighs each
    retriever per query by how confident its own score distribution is (see
    ``mmrag.retrieval.adaptive`` and docs/ranking.md); ``rrf`` and ``weighted``
    are the classic fixed rules."""

    __noun__ = "fusion"

    ADAPTIVE = "adaptive"
    RRF = "rrf"
    WEIGHTED = "weighted"


@dataclass(frozen=True)
class SearchRequest:
    """One query. ``vectors`` maps an embedding space to the query vector in it:
    ``(dim,)`` for a pooled space, ``(n_q, dim)`` token vectors for a multi-vector one.

    ``weights`` are (dense, bm25) for weighted fusion; ``alpha`` (0..1), when
    given, is the dense side's share and wins over ``weights``: 0 is pure BM25,
    1 pure vector, in either fusion, exactly (no store moves it). ``rrf_k`` is RRF's k;
    ``candidates`` is how deep each retriever (or the late-interaction first
    stage) looks before fusion or rerank.
    """

    text: str
    vectors: Mapping[str, np.ndarray] = field(default_factory=dict)
    k: int = 10
    mode: SearchMode = SearchMode.HYBRID
    filters: Filters | None = None  # validated into one ``Filter`` (or None) on construction
    fusion: Fusion = Fusion.ADAPTIVE
    rrf_k: int = 60
    weights: tuple[float, float] = (0.7, 0.3)  # dense, bm25
    candidates: int | None = None  # per-retriever depth before fusion; default max(k, 50)
    alpha: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "mode", SearchMode.parse(self.mode))
        object.__setattr__(self, "fusion", Fusion.parse(self.fusion))
        object.__setattr__(self, "filters", to_filter(self.filters))
        if self.k < 1:
            raise InvalidArgument(f"k must be >= 1, got {self.k}")
        if self.mode is not SearchMode.BM25 and not self.vectors:
            raise InvalidArgument(f"{self.mode.value} search needs a query vector")
        if self.mode is SearchMode.LATE and not any(np.ndim(v) == 2 for v in self.vectors.values()):
            raise InvalidArgument("late search needs a multi-vector query: an (n_tokens, dim) array in a multi-vector space")
        if self.rrf_k < 1:
            raise InvalidArgument(f"rrf_k must be >= 1, got {self.rrf_k}")
        if self.candidates is not None and self.candidates < 1:
            raise InvalidArgument(f"candidates must be >= 1, got {self.candidates}")
        if self.alpha is not None:
            if not 0.0 <= self.alpha <= 1.0:
                raise InvalidArgument(f"alpha is the dense share in [0, 1] (1 = dense only, 0 = BM25 only), got {self.alpha}")
            if self.fusion is Fusion.RRF:
                raise InvalidArgument("alpha weighs dense against BM25 scores; RRF fuses ranks: give fusion='weighted' or no alpha")
            # alpha is the weighted fusion's dense share, the same in every store.
            object.__setattr__(self, "weights", (float(self.alpha), 1.0 - float(self.alpha)))
            object.__setattr__(self, "fusion", Fusion.WEIGHTED)
        if len(self.weights) != 2 or min(self.weights) < 0 or sum(self.weights) <= 0:
            raise InvalidArgument(f"weights are (dense, bm25), both >= 0 with a positive sum; got {self.weights}")

    @property
    def depth(self) -> int:
        deep = self.mode in (SearchMode.HYBRID, SearchMode.LATE)
        return max(self.candidates or 0, self.k, 50 if deep else self.k)


@dataclass(frozen=True)
class SourceInfo:
    """One ingested file: ``chunks`` counts all its chunks, its children's too;
    ``children`` are the sources stored under it (a mail's attachments,
    ``mail.eml#report.pdf``, nested ones included), each with its own chunks."""

    source: str
    doc_id: str
    chunks: int
    children: tuple[SourceInfo, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """What ``mmrag sources --json`` prints for it."""
        return {"source": self.source, "doc_id": self.doc_id, "chunks": self.chunks,
                "children": [{"source": c.source, "chunks": c.chunks} for c in self.children]}


def source_tree(counts: Mapping[tuple[str, str], int]) -> list[SourceInfo]:
    """``SourceInfo`` per doc_id from chunk counts per ``(doc_id, source)``, sorted by
    source: the file is the parent and the sources under it (``file#part``) its
    children, so a mail is listed once, by its own name, whichever row came first."""
    by_doc: dict[str, dict[str, int]] = {}
    for (doc_id, source), n in counts.items():
        by_doc.setdefault(doc_id, {})[source] = n
    out = []
    for doc_id, sources in by_doc.items():
        parent = _parent_source(sorted(sources, key=lambda s: (len(s), s)))
        children = tuple(SourceInfo(s, doc_id, n) for s, n in sorted(sources.items()) if s != parent)
        out.append(SourceInfo(parent, doc_id, sum(sources.values()), children))
    return sorted(out, key=lambda s: s.source)


def _parent_source(sources: list[str]) -> str:
    """The file the sources (shortest first) hang from: the shortest when the others
    are its parts; when the file has no chunk of its own (a mail always has its
    header's), the name before the first ``#`` of the last path part, which the
    parts share (attachments' names are made '#'-free)."""
    first = sources[0]
    if all(s.startswith(first + "#") for s in sources[1:]):
        return first
    folder, _, name = first.rpartition("/")
    base = f"{folder}/{name.split('#', 1)[0]}" if folder else name.split("#", 1)[0]
    return base if all(s.startswith(base + "#") or s == base for s in sources) else first


@dataclass(frozen=True)
class CollectionInfo:
    name: str
    rows: int
    spaces: Mapping[str, EmbedderSpec]


def check_specs(collection: str, stored: Mapping[str, EmbedderSpec], wanted: Mapping[str, EmbedderSpec]) -> None:
    """Raise ``ModelMismatchError`` unless ``wanted`` matches what the collection was built with."""
    for space, spec in wanted.items():
        have = stored.get(space)
        if have is None:
            raise ModelMismatchError(
                f"collection '{collection}' has no '{space}' vector space (it has: {', '.join(stored) or 'none'}); "
                "ingest into a new collection (--collection NAME)"
            )
        if have != spec:
            raise ModelMismatchError(
                f"collection '{collection}' was built with {have.describe()} for '{space}', "
                f"but this run uses {spec.describe()}; use the same model or a new collection (--collection NAME)"
            )


class VectorStore(ABC):
    """A collection of chunks with dense vectors per embedding space and BM25.

    Writes are per source and all-or-nothing: ``write_source`` adds the new
    chunks and then removes the source's chunks that are no longer wanted.
    """

    collection: str
    local_path: Path | None = None  # where an embedded store keeps its files (never ingested)

    @abstractmethod
    def ensure_collection(self, spaces: Mapping[str, EmbedderSpec]) -> None:
        """Create the collection for these embedders, or check an existing one matches."""

    @abstractmethod
    def spaces(self) -> dict[str, EmbedderSpec]:
        """The embedders the collection was built with (empty if it does not exist)."""

    @abstractmethod
    def chunk_ids(self, doc_id: str) -> set[str]:
        """Ids of the chunks stored for one source."""

    @abstractmethod
    def write_source(
        self, doc_id: str, chunks: Sequence[Chunk], vectors: Mapping[str, np.ndarray], keep: set[str]
    ) -> None:
        """Insert ``chunks`` (rows of ``vectors`` align with them), then delete the
        source's other chunks whose ids are not in ``keep``. On failure nothing new stays."""

    def chunk_ids_of(self, doc_ids: Sequence[str]) -> dict[str, set[str]]:
        """``chunk_ids`` for several sources; a source with none stored is left out.
        Stores override it with one query."""
        return {d: ids for d in dict.fromkeys(doc_ids) if (ids := self.chunk_ids(d))}

    def add_sources(self, chunks: Sequence[Chunk], vectors: Mapping[str, Any]) -> None:
        """Insert the chunks of sources that have none stored yet (rows of
        ``vectors`` align with ``chunks``), all or nothing: ingestion's bulk path
        for many small files. This default writes source by source and removes
        the ones it wrote if a later one fails; stores override it with one insert."""
        rows: dict[str, list[int]] = {}
        for i, chunk in enumerate(chunks):
            rows.setdefault(chunk.doc_id, []).append(i)
        written: list[str] = []
        try:
            for doc_id, picked in rows.items():
                part = [chunks[i] for i in picked]
                self.write_source(doc_id, part, take_rows(vectors, picked), keep={c.id for c in part})
                written.append(doc_id)
        except Exception:
            for doc_id in written:
                self.delete_source(doc_id)
            raise

    @abstractmethod
    def delete(self, ids: Sequence[str]) -> int:
        """Remove chunks by id; returns how many existed and were removed."""

    @abstractmethod
    def delete_source(self, doc_id: str) -> int:
        """Remove every chunk of a source; returns how many were removed."""

    @abstractmethod
    def get(self, ids: Sequence[str]) -> list[Chunk]:
        """Chunks by id, in the order asked (missing ids are left out)."""

    @abstractmethod
    def vectors(self, ids: Sequence[str], space: str) -> dict[str, np.ndarray]:
        """The stored ``(dim,)`` vectors of chunks in one space (pooled for a multi-vector
        space), by id; missing ids are left out. For diversity (MMR) and inspection."""

    @abstractmethod
    def _select(self, where: Filter, limit: int | None) -> list[Chunk]:
        """Chunks matching ``where`` (at most ``limit``), in no set order."""

    def select(self, filters: Filters, limit: int | None = None) -> list[Chunk]:
        """Chunks matching ``filters`` without a query (what LlamaIndex's
        ``get_nodes(filters=)`` lists), sorted by id, at most ``limit``."""
        where = to_filter(filters)
        if where is None:
            raise InvalidArgument("select needs a filter; list sources with sources()")
        if limit is not None and limit < 1:
            raise InvalidArgument(f"limit must be >= 1, got {limit}")
        if not self.spaces():
            return []
        return sorted(self._select(where, limit), key=lambda c: c.id)

    def delete_where(self, filters: Filters) -> int:
        """Remove every chunk matching ``filters``; returns how many. An empty filter
        is refused rather than read as "everything"."""
        where = to_filter(filters)
        if where is None:
            raise InvalidArgument("delete_where needs a filter; an empty one would delete everything")
        return self.delete([c.id for c in self.select(where)]) if self.spaces() else 0

    # -- the query policy, the same for every backend ---------------------------
    def search(self, request: SearchRequest) -> list[Hit]:
        """Hits best first. The policy lives here, once: alpha 0 is BM25 and 1 is
        dense, exactly; a hybrid query without text is its dense search; adaptive
        and weighted fusion run over each retriever's candidates; RRF and late
        interaction are the backend's own. Backends supply the primitives below."""
        stored = self.spaces()
        if not stored:
            raise StoreError(f"collection '{self.collection}' does not exist; ingest something first")
        for space in request.vectors:
            if space not in stored:
                raise StoreError(f"collection '{self.collection}' has no '{space}' space (it has: {', '.join(stored)})")
        mode, alpha = request.mode, request.alpha
        if mode is SearchMode.LATE:
            tokens = sum(len(v) for v in request.vectors.values() if np.ndim(v) == 2)
            return [Hit(h.chunk, h.score, {**h.scores, "maxsim_mean": h.score / tokens}) for h in self.late_hits(request)]
        if mode is SearchMode.BM25 or (mode is SearchMode.HYBRID and alpha == 0.0):
            return self.bm25_hits(request, request.k)
        if mode is SearchMode.DENSE or alpha == 1.0 or not request.text.strip():
            return best_per_chunk(self.dense_hits(request, request.k))[: request.k]
        if any(stored[space].multivector for space in request.vectors):
            return self._late_hybrid(request)
        if request.fusion is Fusion.RRF:
            return self.rrf_hits(request)
        candidates = self.candidates(request)
        if request.fusion is Fusion.WEIGHTED:
            return weighted_hits(candidates, request.weights, request.k)
        return fuse_hits(candidates, request.text, request.k)

    def _late_hybrid(self, request: SearchRequest) -> list[Hit]:
        """Hybrid on a multi-vector space: late interaction (its first stage without BM25,
        then exact MaxSim over ``depth`` candidates) is the vector side, scored by
        ``maxsim_mean`` (the mean best cosine per query token, a cosine's range), and is
        fused with BM25 by the request's fusion like a dense list."""
        late = self.late_hits(replace(request, text="", k=request.depth, mode=SearchMode.LATE, fusion=Fusion.RRF, alpha=None))
        tokens = sum(len(v) for v in request.vectors.values() if np.ndim(v) == 2)
        late = [Hit(h.chunk, h.score / tokens, {**h.scores, "maxsim_mean": h.score / tokens}) for h in late]
        candidates = {"dense": late, "bm25": self.bm25_hits(request, request.depth)}
        if request.fusion is Fusion.RRF:
            return rrf_hits(candidates, request.rrf_k, request.k)
        if request.fusion is Fusion.WEIGHTED:
            return weighted_hits(candidates, request.weights, request.k)
        return fuse_hits(candidates, request.text, request.k)

    def candidates(self, request: SearchRequest) -> dict[str, list[Hit]]:
        """Each retriever's own best-first list, ``request.depth`` deep, with its raw
        scores (``dense``: cosine, ``bm25``): the input of client-side fusion."""
        dense = best_per_chunk(self.dense_hits(request, request.depth))[: request.depth]
        return {"dense": dense, "bm25": self.bm25_hits(request, request.depth)}

    @abstractmethod
    def dense_hits(self, request: SearchRequest, limit: int) -> list[Hit]:
        """Up to ``limit`` cosine hits per query space (score = cosine, ``scores["dense"]``);
        a chunk may come once per space (``search`` keeps its best)."""

    @abstractmethod
    def bm25_hits(self, request: SearchRequest, limit: int) -> list[Hit]:
        """Up to ``limit`` BM25 hits for ``request.text`` (score >= 0, ``scores["bm25"]``); none for empty text."""

    @abstractmethod
    def rrf_hits(self, request: SearchRequest) -> list[Hit]:
        """Dense and BM25 fused by reciprocal rank (k = ``request.rrf_k``), in the backend."""

    @abstractmethod
    def late_hits(self, request: SearchRequest) -> list[Hit]:
        """Late interaction: candidates ordered by exact MaxSim over the stored token vectors."""

    @abstractmethod
    def sources(self) -> list[SourceInfo]:
        """Every stored source with its chunk count."""

    @abstractmethod
    def info(self) -> list[CollectionInfo]:
        """Every mmrag collection at this store's location."""

    def delete_source_path(self, source: str) -> int:
        """Remove every chunk whose ``source`` is exactly ``source`` (as ingested); returns how many."""
        return sum(self.delete_source(s.doc_id) for s in self.sources() if s.source == source)

    def manifest(self) -> Manifest | None:
        """The ingest manifest kept beside this store's chunks (None: the store keeps
        none, so every run loads each file and compares chunk ids)."""
        return None

    def asr_model(self) -> AsrSpec | None:
        """The ASR model the collection's speech was transcribed with (None: none recorded)."""
        return None

    def record_asr_model(self, spec: AsrSpec | None) -> None:
        """Record the ASR model (None: forget it); ingest calls it before writing any speech."""
        raise StoreError(f"{type(self).__name__} cannot record an ASR model, so it cannot hold transcribed speech")

    def flush(self) -> None:
        """Make what was written cheap to search (seal and merge segments); call after a bulk write.
        Searches see written data without it; this is about speed, not visibility."""

    def close(self) -> None:
        """Release connections (no-op where there are none)."""
