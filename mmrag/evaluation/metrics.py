"""Ranking metrics as pure functions of a judged ranking.

``found[i]`` is True when the hit at rank ``i + 1`` finds a relevant item not
found above it (see ``matching.judge``); ``n_relevant`` is how many relevant
items the query has. Binary relevance, as in known-item and page-level search.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from mmrag.errors import InvalidArgument


def _check(n_relevant: int, k: int | None = None) -> None:
    if n_relevant < 1:
        raise InvalidArgument(f"a query needs at least one relevant item, got {n_relevant}")
    if k is not None and k < 1:
        raise InvalidArgument(f"k must be >= 1, got {k}")


def recall_at_k(found: Sequence[bool], n_relevant: int, k: int) -> float:
    """The share of relevant items found in the top ``k``."""
    _check(n_relevant, k)
    return sum(bool(f) for f in found[:k]) / n_relevant


def reciprocal_rank(found: Sequence[bool]) -> float:
    """``1 / rank`` of the first relevant hit; 0 when none was found."""
    return next((1.0 / rank for rank, f in enumerate(found, start=1) if f), 0.0)


def ndcg_at_k(found: Sequence[bool], n_relevant: int, k: int = 10) -> float:
    """Normalised discounted cumulative gain at ``k`` with binary gains:
    ``sum(1 / log2(rank + 1))`` over relevant hits, divided by the same sum for
    the ideal ranking (all ``min(n_relevant, k)`` relevant items on top)."""
    _check(n_relevant, k)
    dcg = sum(1.0 / math.log2(rank + 1) for rank, f in enumerate(found[:k], start=1) if f)
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(n_relevant, k) + 1))
    return dcg / ideal


def latency_summary(seconds: Sequence[float]) -> dict[str, float]:
    """Mean, median and 95th percentile in milliseconds (linear interpolation between ranks)."""
    if not seconds:
        raise InvalidArgument("no latencies to summarise")
    ms = sorted(s * 1000.0 for s in seconds)

    def pct(p: float) -> float:
        pos = (len(ms) - 1) * p
        lo = math.floor(pos)
        hi = min(lo + 1, len(ms) - 1)
        return ms[lo] + (ms[hi] - ms[lo]) * (pos - lo)

    return {"mean": sum(ms) / len(ms), "p50": pct(0.5), "p95": pct(0.95)}
