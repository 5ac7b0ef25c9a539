"""A LlamaIndex node postprocessor that reranks with any mmrag reranker."""

from __future__ import annotations

from typing import Any

from llama_index.core.postprocessor.types import BaseNodePostprocessor
from llama_index.core.schema import NodeWithScore, QueryBundle
from llama_index.vector_stores.mmrag.convert import node_to_hit
from pydantic import Field, field_validator


class MmragRerank(BaseNodePostprocessor):
    """Reorders retrieved nodes with an mmrag reranker and keeps the best ``top_n``.

    Example::

        from llama_index.postprocessor.mmrag import MmragRerank
        engine = index.as_query_engine(similarity_top_k=20,
                                       node_postprocessors=[MmragRerank(reranker=my_reranker, top_n=5)])

    ``reranker`` is any object with ``rerank(query, hits, k)`` returning new
    ``Hit``s best first (the ``mmrag.reranking`` classes). ``TextNode``s and
    ``ImageNode``s alike become hits (an ImageNode by its ``image_path`` or the
    image reference mmrag stored), so a multimodal reranker sees the pixels.
    """

    reranker: Any = Field(description="an object with rerank(query, hits, k)")
    top_n: int = Field(default=5, ge=1)

    @field_validator("reranker")
    @classmethod
    def _is_reranker(cls, value: Any) -> Any:
        if not callable(getattr(value, "rerank", None)):
            raise TypeError(f"{type(value).__name__} is not a reranker: it needs a rerank(query, hits, k) method")
        return value

    @classmethod
    def class_name(cls) -> str:
        return "MmragRerank"

    def _postprocess_nodes(
        self, nodes: list[NodeWithScore], query_bundle: QueryBundle | None = None
    ) -> list[NodeWithScore]:
        if query_bundle is None or not query_bundle.query_str.strip():
            raise ValueError("the query is empty")
        if not nodes:
            return []
        hits = [node_to_hit(n.node, n.score) for n in nodes]
        by_id = {n.node.node_id: n.node for n in nodes}
        ranked = list(self.reranker.rerank(query_bundle.query_str, hits, self.top_n))[: self.top_n]
        return [NodeWithScore(node=by_id[h.chunk.id], score=h.score) for h in ranked]
