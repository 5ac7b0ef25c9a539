"""The store interface every backend implements, and the search request it takes."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum

import numpy as np

from mmrag.embedding.base import EmbedderSpec
from mmrag.errors import ModelMismatchError
from mmrag.stores.filters import Filters
from mmrag.types import Chunk, Hit


class SearchMode(str, Enum):
    DENSE = "dense"
    BM25 = "bm25"
    HYBRID = "hybrid"

    @classmethod
    def parse(cls, value: str | SearchMode) -> SearchMode:
        try:
            return cls(value)
        except ValueError:
            raise ValueError(f"unknown search mode {value!r}; valid: {', '.join(m.value for m in cls)}") from None


class Fusion(str, Enum):
    """How hybrid search merges dense and BM25. ``adaptive`` (default) weighs each
    retriever per query by how confident its own score distribution is (see
    ``mmrag.retrieval.adaptive`` and docs/ranking.md); ``rrf`` and ``weighted``
    are the classic fixed rules."""

    ADAPTIVE = "adaptive"
    RRF = "rrf"
    WEIGHTED = "weighted"

    @classmethod
    def parse(cls, value: str | Fusion) -> Fusion:
        try:
            return cls(value)
        except ValueError:
            raise ValueError(f"unknown fusion {value!r}; valid: {', '.join(m.value for m in cls)}") from None


@dataclass(frozen=True)
class SearchRequest:
    """One query. ``vectors`` maps an embedding space to the query vector in it."""

    text: str
    vectors: Mapping[str, np.ndarray] = field(default_factory=dict)
    k: int = 10
    mode: SearchMode = SearchMode.HYBRID
    filters: Filters | None = None
    fusion: Fusion = Fusion.ADAPTIVE
    rrf_k: int = 60
    weights: tuple[float, float] = (0.7, 0.3)  # dense, bm25
    candidates: int | None = None  # per-retriever depth before fusion; default max(k, 50)

    def __post_init__(self) -> None:
        object.__setattr__(self, "mode", SearchMode.parse(self.mode))
        object.__setattr__(self, "fusion", Fusion.parse(self.fusion))
        if self.k < 1:
            raise ValueError(f"k must be >= 1, got {self.k}")
        if self.mode is not SearchMode.BM25 and not self.vectors:
            raise ValueError(f"{self.mode.value} search needs a query vector")

    @property
    def depth(self) -> int:
        return max(self.candidates or 0, self.k, 50 if self.mode is SearchMode.HYBRID else self.k)


@dataclass(frozen=True)
class SourceInfo:
    source: str
    doc_id: str
    chunks: int


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

    @abstractmethod
    def delete_source(self, doc_id: str) -> int:
        """Remove every chunk of a source; returns how many were removed."""

    @abstractmethod
    def get(self, ids: Sequence[str]) -> list[Chunk]:
        """Chunks by id, in the order asked (missing ids are left out)."""

    @abstractmethod
    def search(self, request: SearchRequest) -> list[Hit]:
        """Hits best first."""

    @abstractmethod
    def sources(self) -> list[SourceInfo]:
        """Every stored source with its chunk count."""

    @abstractmethod
    def info(self) -> list[CollectionInfo]:
        """Every mmrag collection at this store's location."""

    def close(self) -> None:
        """Release connections (no-op where there are none)."""
