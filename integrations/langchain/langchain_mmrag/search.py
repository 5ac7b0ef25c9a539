"""The search options both the vector store and the retriever take, validated
and handed to ``mmrag.Index.search`` (the query policy lives in the core)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mmrag.errors import InvalidArgument

SEARCH_KWARGS = ("mode", "filter", "filters", "alpha", "weights", "fusion", "candidates")


def search_options(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """``Index.search`` keyword arguments from LangChain's; an unknown one raises listing
    the valid ones. ``filter`` is LangChain's name for ``filters``; None means the default."""
    unknown = sorted(set(kwargs) - set(SEARCH_KWARGS))
    if unknown:
        raise TypeError(f"unknown search option(s) {', '.join(unknown)}; valid: {', '.join(SEARCH_KWARGS)}")
    opts = {key: value for key, value in kwargs.items() if value is not None}
    if "filter" in opts:
        if "filters" in opts:
            raise InvalidArgument("give filter or filters, not both")
        opts["filters"] = opts.pop("filter")
    return opts
