"""An agent ``FunctionTool`` for hybrid multimodal search over an mmrag index."""

# No `from __future__ import annotations`: FunctionTool reads the search function's real annotations.

from typing import Any, Literal

from llama_index.core.tools import FunctionTool

from mmrag.index import Index
from mmrag.service.citations import numbered
from mmrag.stores import SearchMode
from mmrag.types import Hit

DESCRIPTION = (
    "Search the document collection (text, PDF pages, slides, images, transcripts) with hybrid keyword + "
    "semantic search. Arguments: query (what to look for), k (how many results, default 5), mode "
    "(hybrid, dense or bm25), filters (exact matches such as {\"source\": \"report.pdf\", \"page\": 3}). "
    "Returns numbered passages with their source and page/slide/time to cite."
)


def mmrag_search_tool(
    index: Index,
    *,
    name: str = "mmrag_search",
    description: str = DESCRIPTION,
    reranker: Any = None,
    rerank_depth: int = 20,
    max_chars: int = 800,
) -> FunctionTool:
    """A ``FunctionTool`` whose ``ToolOutput.content`` is citable text and whose
    ``raw_output`` is the list of ``Hit.to_dict()`` (the search JSON contract).

    Example::

        from llama_index.tools.mmrag import mmrag_search_tool
        tool = mmrag_search_tool(mmrag.Index("mmrag.db"))
        out = tool.call(query="battery storage", k=3)
        out.content, out.raw_output[0]["page"]
        agent = FunctionAgent(tools=[tool], llm=llm)

    ``reranker``: any object with ``rerank(query, hits, k)``; it reranks the first
    ``rerank_depth`` hits.
    """
    if reranker is not None and not callable(getattr(reranker, "rerank", None)):
        raise TypeError(f"{type(reranker).__name__} is not a reranker: it needs a rerank(query, hits, k) method")

    def mmrag_search(
        query: str, k: int = 5, mode: Literal["hybrid", "dense", "bm25"] = "hybrid", filters: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Hybrid search over the collection; returns the hits as dicts."""
        hits: list[Hit] = index.search(query, k=max(k, rerank_depth) if reranker else k, mode=SearchMode.parse(mode), filters=filters)
        if reranker is not None and hits:
            hits = list(reranker.rerank(query, hits, k))[:k]
        return [h.to_dict() for h in hits]

    return FunctionTool.from_defaults(
        fn=mmrag_search,
        name=name,
        description=description,
        callback=lambda hits: numbered(hits, max_chars),
    )
