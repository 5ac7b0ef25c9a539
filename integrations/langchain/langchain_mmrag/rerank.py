"""The reranker contract the adapters rely on, duck-typed so any mmrag reranker fits.

A reranker is any object with ``rerank(query, hits, k)`` that returns a new list
of at most ``k`` ``Hit``s, best first, without mutating the input (the
``mmrag.reranking.Reranker`` classes and anything shaped like them).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from mmrag.types import Hit


class RerankerLike(Protocol):
    """The expected shape (for type checkers; ``check_reranker`` enforces it at run time)."""

    def rerank(self, query: str, hits: Sequence[Hit], k: int) -> list[Hit]: ...


def check_reranker(reranker: Any) -> Any:
    if reranker is not None and not callable(getattr(reranker, "rerank", None)):
        raise TypeError(f"{type(reranker).__name__} is not a reranker: it needs a rerank(query, hits, k) method")
    return reranker


def rerank(reranker: RerankerLike, query: str, hits: Sequence[Hit], k: int) -> list[Hit]:
    """The reranked hits; positional call so ``k``'s parameter name does not matter."""
    if not hits:
        return []
    return list(reranker.rerank(query, list(hits), k))[:k]
