"""The reranker contract, and the pure functions that turn scores into new hits.

A reranker looks at the query and each candidate together (or with a finer
model than the first stage) and returns NEW hits, best first: the input hits are
never mutated, and each new hit keeps its first-stage score next to the rerank
score so a caller can see why it moved.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np

from mmrag.errors import InvalidArgument
from mmrag.types import Hit


def _min_max(values: np.ndarray) -> np.ndarray:
    lo, hi = float(values.min()), float(values.max())
    return np.ones_like(values) if hi == lo else (values - lo) / (hi - lo)


def reranked(hits: Sequence[Hit], scores: np.ndarray, k: int | None = None, blend: float | None = None) -> list[Hit]:
    """New hits ordered by ``scores`` (aligned with ``hits``), best first, at most ``k``.

    Each hit's ``scores`` gains ``first_stage`` (its old ``score``) and ``rerank``.
    With ``blend`` in [0, 1] the final score is ``blend * rerank + (1 - blend) *
    first_stage`` after min-max scaling both over the candidate set (the two
    scales differ, so they are made comparable first) and is kept as ``blend``.
    Ties keep the first-stage order (the sort is stable).
    """
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    if len(scores) != len(hits):
        raise InvalidArgument(f"{len(scores)} scores for {len(hits)} hits")
    if k is not None and k < 1:
        raise InvalidArgument(f"k must be >= 1, got {k}")
    if blend is not None and not 0.0 <= blend <= 1.0:
        raise InvalidArgument(f"blend must be in [0, 1], got {blend}")
    if not hits:
        return []
    final = scores
    if blend is not None:
        first = np.array([h.score for h in hits], dtype=np.float64)
        final = blend * _min_max(scores) + (1.0 - blend) * _min_max(first)
    order = np.argsort(-final, kind="stable")[: k or len(hits)]
    out = []
    for i in order:
        extra = {"first_stage": float(hits[i].score), "rerank": float(scores[i])}
        if blend is not None:
            extra["blend"] = float(final[i])
        out.append(Hit(hits[i].chunk, float(final[i]), {**hits[i].scores, **extra}))
    return out


class Reranker(ABC):
    """Reorders first-stage hits; subclasses implement ``score``.

    Example::

        reranker = BiEncoderReranker()
        best = reranker.rerank("solar panel output", index.search("solar panel output", k=40), k=10)
        best[0].scores["first_stage"], best[0].scores["rerank"]
    """

    @abstractmethod
    def score(self, query: str, hits: Sequence[Hit]) -> np.ndarray:
        """One float per hit (higher is better): float32 ``(len(hits),)``."""

    def rerank(self, query: str, hits: Sequence[Hit], k: int | None = None, blend: float | None = None) -> list[Hit]:
        """New hits best first by this reranker's score (see ``reranked`` for ``blend``)."""
        if not hits:
            return []
        return reranked(hits, self.score(query, hits), k, blend)
