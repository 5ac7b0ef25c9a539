"""Adaptive hybrid fusion: trust BM25 per query by how well its best hit matches
the query's words, and dense the rest of the time.

Why not RRF or a fixed weight: when one retriever is weak on a query set, a fixed
rule lets its noise push the other's right answers out of the top k. On Jeopardy
questions against "Category: Answer" documents BM25 finds the answer for 1 query
in 10, and RRF(60) loses a quarter of dense's recall@10; on exact-phrase queries
BM25 is the strong one. A good mix must change per query.

The signal (a post-retrieval query-performance predictor, computed from the hits
alone): the *lexical coverage* of the query by BM25's top hit, the share of the
query's distinct words found in that hit. A known-item or keyword query is
covered fully by the right document and BM25 is then near-certain; a natural
question answered in other words is covered by a fraction and BM25's top hits
are chance word overlaps. Score-shape signals (top-1 z-score, gap to the second)
were tried first and fail: BM25's list is just as peaked when it is wrong
(benchmarks/fusion_quality.py, docs/ranking.md).

Fusion: each retriever's scores are standardised over its own candidate list
(z-score, so cosines and unbounded BM25 scores share a scale), and

    fused(d) = (1 - a) * z_dense(d) + a * z_bm25(d),   a = cap * coverage ** exponent

A document missing from one list gets that list's lowest z-score (it ranked
below everything the list kept). ``exponent`` and ``cap`` were chosen on half of
the benchmark queries and reported on the other half.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from mmrag.errors import InvalidArgument
from mmrag.retrieval.scores import logistic
from mmrag.types import Hit

_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class AdaptiveParams:
    """``exponent`` > 0 sharpens the coverage (partial matches count for less);
    ``cap`` in (0, 1] is the most BM25 can weigh, so dense still orders the
    documents BM25 cannot tell apart."""

    exponent: float = 2.0
    cap: float = 0.9

    def __post_init__(self) -> None:
        if self.exponent <= 0:
            raise InvalidArgument(f"exponent must be > 0, got {self.exponent}")
        if not 0 < self.cap <= 1:
            raise InvalidArgument(f"cap must be in (0, 1], got {self.cap}")


@dataclass(frozen=True)
class Fused:
    """Fused scores by key, and the BM25 weight ``a`` this query got."""

    scores: dict[Hashable, float]
    bm25_weight: float


def words(text: str) -> set[str]:
    """Lower-cased word tokens, as Milvus' standard BM25 analyzer splits them."""
    return set(_WORD.findall(text.lower()))


def coverage(query: str, text: str) -> float:
    """Share of the query's distinct words that occur in ``text`` (0 for a query without words)."""
    wanted = words(query)
    return len(wanted & words(text)) / len(wanted) if wanted else 0.0


def zscores(ranked: Sequence[tuple[Hashable, float]]) -> dict[Hashable, float]:
    """Scores standardised over the list; equal scores all map to 0."""
    if not ranked:
        return {}
    s = np.array([score for _, score in ranked], dtype=np.float64)
    std = s.std()
    z = (s - s.mean()) / std if std > 0 else np.zeros_like(s)
    return dict(zip((key for key, _ in ranked), z.tolist()))


def adaptive(
    dense: Sequence[tuple[Hashable, float]],
    bm25: Sequence[tuple[Hashable, float]],
    top_bm25_text: str | None,
    query: str,
    params: AdaptiveParams | None = None,
) -> Fused:
    """Fuse two best-first ``(key, score)`` lists; ``top_bm25_text`` is the text BM25
    ranked first (what its analyzer saw), ``None`` when BM25 found nothing."""
    params = params or AdaptiveParams()
    if not bm25 or top_bm25_text is None:
        a = 0.0
    elif not dense:
        a = 1.0
    else:
        a = params.cap * coverage(query, top_bm25_text) ** params.exponent
    zd, zb = zscores(dense), zscores(bm25)
    floor_d = min(zd.values(), default=0.0)
    floor_b = min(zb.values(), default=0.0)
    fused = {key: (1 - a) * zd.get(key, floor_d) + a * zb.get(key, floor_b) for key in {**zd, **zb}}
    return Fused(fused, a)


def fuse_hits(candidates: Mapping[str, Sequence[Hit]], query: str, k: int, params: AdaptiveParams | None = None) -> list[Hit]:
    """The best ``k`` of a store's ``{"dense": hits, "bm25": hits}`` candidates, as new
    hits whose ``scores`` keep ``dense``/``bm25`` (where found) and add ``adaptive``
    (the fused z-score) and ``bm25_weight``. ``Hit.score`` is the logistic of the
    fused z-score: in (0, 1), 0.5 for a hit that stands where its lists' average is."""
    dense = list(candidates.get("dense", ()))
    bm25 = list(candidates.get("bm25", ()))
    fused = adaptive(
        [(h.chunk.id, h.score) for h in dense],
        [(h.chunk.id, h.score) for h in bm25],
        bm25[0].chunk.embed_text if bm25 else None,
        query,
        params,
    )
    by_id = {h.chunk.id: h for h in bm25} | {h.chunk.id: h for h in dense}
    scores_of: dict[str, dict[str, float]] = {}
    for h in (*bm25, *dense):
        scores_of.setdefault(h.chunk.id, {}).update(h.scores)
    ranked = sorted(fused.scores, key=lambda key: -fused.scores[key])[:k]
    return [
        Hit(
            by_id[key].chunk,
            logistic(fused.scores[key]),
            {**scores_of[key], "adaptive": fused.scores[key], "bm25_weight": fused.bm25_weight},
        )
        for key in ranked
    ]
