"""One search call with the options both the vector store and the retriever take."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mmrag.index import Index
from mmrag.stores import Fusion, SearchMode, SearchRequest
from mmrag.stores.base import check_specs
from mmrag.types import Hit

SEARCH_KWARGS = ("mode", "filter", "filters", "alpha", "weights", "fusion", "candidates")


def search_options(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """Validated search kwargs; an unknown one raises listing the valid ones."""
    unknown = sorted(set(kwargs) - set(SEARCH_KWARGS))
    if unknown:
        raise TypeError(f"unknown search option(s) {', '.join(unknown)}; valid: {', '.join(SEARCH_KWARGS)}")
    opts = dict(kwargs)
    if "filter" in opts:
        if opts.get("filters") is not None and opts["filter"] is not None:
            raise ValueError("give filter or filters, not both")
        given = opts.pop("filter")
        opts["filters"] = given if given is not None else opts.get("filters")
    return opts


def run_search(
    index: Index,
    query: str,
    k: int,
    *,
    mode: str | SearchMode = SearchMode.HYBRID,
    filters: Mapping[str, Any] | None = None,
    alpha: float | None = None,
    weights: Sequence[float] | None = None,
    fusion: str | Fusion | None = None,
    candidates: int | None = None,
) -> list[Hit]:
    """Hits for ``query``. ``alpha`` (1 = dense only, 0 = BM25 only) is the
    LangChain/LlamaIndex name for weighted hybrid fusion ``weights=(alpha, 1-alpha)``."""
    if not query or not query.strip():
        raise ValueError("the query is empty")
    mode = SearchMode.parse(mode)
    if alpha is not None:
        if weights is not None:
            raise ValueError("give alpha or weights, not both")
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"alpha must be in [0, 1] (1 = dense only, 0 = BM25 only), got {alpha}")
        weights = (alpha, 1.0 - alpha)
    if weights is not None:
        if mode is not SearchMode.HYBRID:
            raise ValueError(f"alpha/weights apply to hybrid search, not {mode.value}")
        if len(weights) != 2:
            raise ValueError(f"weights are (dense, bm25), got {list(weights)}")
        fusion = Fusion.parse(fusion or Fusion.WEIGHTED)
        if fusion is not Fusion.WEIGHTED:
            raise ValueError("alpha/weights need weighted fusion, not rrf")
    stored = index.store.spaces()
    if stored:
        check_specs(index.store.collection, stored, index.spaces.specs())
    vectors = {} if mode is SearchMode.BM25 else index.spaces.embed_query(query)
    request = SearchRequest(
        query,
        vectors,
        k=k,
        mode=mode,
        filters=filters,
        fusion=fusion or Fusion.RRF,
        candidates=candidates,
        **({"weights": (float(weights[0]), float(weights[1]))} if weights is not None else {}),
    )
    return index.run(request)
