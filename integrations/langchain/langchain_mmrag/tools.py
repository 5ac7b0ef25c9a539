"""An agent tool for hybrid multimodal search: text for the model, hits as the artifact."""

from __future__ import annotations

from typing import Any, Literal

from langchain_core.callbacks import CallbackManagerForToolRun
from langchain_core.tools import BaseTool
from pydantic import BaseModel, ConfigDict, Field

from langchain_mmrag.retrievers import MmragRetriever
from mmrag.service.citations import numbered

FilterValue = str | int | float | bool | list[str | int | float]


class MmragSearchInput(BaseModel):
    """What the model fills in when it calls the tool."""

    query: str = Field(description="What to look for, in natural language or keywords")
    k: int = Field(default=5, ge=1, le=50, description="How many results to return")
    mode: Literal["hybrid", "dense", "bm25"] = Field(
        default="hybrid", description="hybrid (default), dense (meaning) or bm25 (exact words)"
    )
    filters: dict[str, FilterValue] | None = Field(
        default=None,
        description='Exact-match filters, e.g. {"source": "report.pdf"}, {"page": 3}, {"modality": "image"}',
    )


class MmragSearchTool(BaseTool):
    """Lets an agent search the collection; the ToolMessage artifact keeps the hits.

    Example::

        tool = MmragSearchTool(retriever=MmragRetriever(index=mmrag.Index("mmrag.db")))
        msg = tool.invoke({"name": tool.name, "args": {"query": "pollination"},
                           "id": "1", "type": "tool_call"})
        msg.content    # "[1] report.pdf, p. 3 (chunk_id ..., score ...)" passages for the model to cite
        msg.artifact   # [Hit.to_dict(), ...]: the structured hits for the app
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    name: str = "mmrag_search"
    description: str = (
        "Search the document collection (text, PDF pages, slides, images, transcripts) with hybrid "
        "keyword + semantic search. Returns numbered passages with their source and page/slide/time."
    )
    args_schema: type[BaseModel] = MmragSearchInput
    response_format: Literal["content", "content_and_artifact"] = "content_and_artifact"
    retriever: MmragRetriever
    max_chars: int = Field(default=800, ge=1)

    def _run(
        self,
        query: str,
        k: int = 5,
        mode: str = "hybrid",
        filters: dict[str, Any] | None = None,
        run_manager: CallbackManagerForToolRun | None = None,
    ) -> tuple[str, list[dict[str, Any]]]:
        hits = self.retriever.search_hits(query, k=k, mode=mode, filters=filters or self.retriever.filters)
        found = [h.to_dict() for h in hits]
        return numbered(found, self.max_chars), found
