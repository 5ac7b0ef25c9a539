"""A LangChain document compressor that reranks with any mmrag reranker."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.callbacks import Callbacks
from langchain_core.documents import BaseDocumentCompressor, Document
from pydantic import ConfigDict, Field, field_validator

from langchain_mmrag.convert import document_to_hit
from langchain_mmrag.rerank import check_reranker, rerank


class MmragReranker(BaseDocumentCompressor):
    """Reorders Documents with an mmrag reranker and keeps the best ``top_n``.

    Example::

        compressor = MmragReranker(reranker=my_cross_encoder, top_n=3)
        best = compressor.compress_documents(base_retriever.invoke(query), query)
        # or as the base_compressor of LangChain's ContextualCompressionRetriever

    Works on any Documents: image Documents from ``MmragRetriever`` keep their
    ``modality``/``image`` metadata, so a multimodal reranker sees the image.
    Each kept Document is a copy with ``relevance_score`` added to its metadata.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    reranker: Any
    top_n: int = Field(default=3, ge=1)

    @field_validator("reranker")
    @classmethod
    def _is_reranker(cls, value: Any) -> Any:
        if value is None:
            raise TypeError("a reranker is needed: an object with rerank(query, hits, k)")
        return check_reranker(value)

    def compress_documents(
        self, documents: Sequence[Document], query: str, callbacks: Callbacks | None = None
    ) -> Sequence[Document]:
        if not query or not query.strip():
            raise ValueError("the query is empty")
        keys = [f"doc-{i}" for i in range(len(documents))]
        hits = [document_to_hit(d, key) for d, key in zip(documents, keys)]
        by_id = {h.chunk.id: d for h, d in zip(hits, documents)}
        out = []
        for hit in rerank(self.reranker, query, hits, self.top_n):
            original = by_id[hit.chunk.id]
            meta = {**original.metadata, "relevance_score": hit.score}
            out.append(Document(id=original.id, page_content=original.page_content, metadata=meta))
        return out
