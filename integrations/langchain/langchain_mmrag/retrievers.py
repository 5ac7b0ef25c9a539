"""A LangChain retriever: hybrid multimodal search, optional rerank, rich metadata."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, Field, field_validator

from langchain_mmrag.convert import hit_to_document
from langchain_mmrag.rerank import check_reranker, rerank
from langchain_mmrag.search import search_options
from mmrag.index import Index
from mmrag.types import Hit


class MmragRetriever(BaseRetriever):
    """Documents for a query from an ``mmrag.Index``, each carrying where it came from.

    Example::

        import mmrag
        from langchain_mmrag import MmragRetriever
        retriever = MmragRetriever(index=mmrag.Index("mmrag.db"), k=5, mode="hybrid",
                                   filters={"modality": "text"})
        docs = retriever.invoke("battery storage", k=3)
        docs[0].metadata["source"], docs[0].metadata["page"], docs[0].metadata["score"]

    Metadata is the search JSON contract (``Hit.to_dict``): ``chunk_id``, ``doc_id``,
    ``source``, ``modality``, ``page``, ``slide``, ``start``, ``end``, ``score``,
    ``scores``, ``context``, ``image`` plus the chunk's own metadata. With a
    ``reranker`` (any object with ``rerank(query, hits, k)``), ``rerank_depth``
    first-stage hits are reranked and the best ``k`` kept.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    index: Index
    k: int = Field(default=4, ge=1)
    mode: str = "hybrid"
    filters: dict[str, Any] | None = None
    alpha: float | None = None
    fusion: str | None = None
    reranker: Any = None
    rerank_depth: int = Field(default=20, ge=1)

    @field_validator("reranker")
    @classmethod
    def _is_reranker(cls, value: Any) -> Any:
        return check_reranker(value)

    def search_hits(self, query: str, **overrides: Any) -> list[Hit]:
        """Hits for ``query``; ``overrides`` (k, mode, filters, alpha, ...) replace the defaults for one call."""
        k = int(overrides.pop("k", self.k))
        opts = {"mode": self.mode, "filters": self.filters, "alpha": self.alpha, "fusion": self.fusion}
        opts.update(search_options(overrides))
        if self.reranker is None:
            return self.index.search(query, k, **search_options(opts))
        first = self.index.search(query, max(k, self.rerank_depth), **search_options(opts))
        return rerank(self.reranker, query, first, k)

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        return [hit_to_document(h) for h in self.search_hits(query, **kwargs)]
