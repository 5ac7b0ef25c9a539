"""Rank fusion as pure functions, testable without a database."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from mmrag.errors import InvalidArgument
from mmrag.types import Hit


def rrf(ranked_lists: Sequence[Sequence[str]], k: int = 60) -> dict[str, float]:
    """Reciprocal rank fusion: ``sum(1 / (k + rank))`` over the lists, rank from 1."""
    if k < 1:
        raise InvalidArgument(f"rrf k must be >= 1, got {k}")
    scores: dict[str, float] = {}
    for ranking in ranked_lists:
        for rank, key in enumerate(ranking, start=1):
            scores[key] = scores.get(key, 0.0) + 1.0 / (k + rank)
    return scores


def min_max(scores: Mapping[str, float]) -> dict[str, float]:
    """Scores rescaled to [0, 1]; a list of equal scores maps to 1."""
    if not scores:
        return {}
    lo, hi = min(scores.values()), max(scores.values())
    if hi == lo:
        return {key: 1.0 for key in scores}
    return {key: (s - lo) / (hi - lo) for key, s in scores.items()}


def weighted(score_lists: Sequence[Mapping[str, float]], weights: Sequence[float]) -> dict[str, float]:
    """Weighted sum of min-max normalised scores; a key missing from a list scores 0 there."""
    if len(score_lists) != len(weights):
        raise InvalidArgument(f"{len(score_lists)} score lists but {len(weights)} weights")
    if any(w < 0 for w in weights) or sum(weights) <= 0:
        raise InvalidArgument(f"weights must be >= 0 with a positive sum, got {list(weights)}")
    fused: dict[str, float] = {}
    for scores, weight in zip(score_lists, weights):
        for key, s in min_max(scores).items():
            fused[key] = fused.get(key, 0.0) + weight * s
    return fused


def best_per_chunk(hits: Sequence[Hit]) -> list[Hit]:
    """One hit per chunk (its best score), best first: the merge of several
    spaces' lists, where one chunk can be found in each."""
    best: dict[str, Hit] = {}
    for h in hits:
        if h.chunk.id not in best or h.score > best[h.chunk.id].score:
            best[h.chunk.id] = h
    return sorted(best.values(), key=lambda h: -h.score)


def weighted_hits(candidates: Mapping[str, Sequence[Hit]], weights: Sequence[float], k: int) -> list[Hit]:
    """``weights`` = (dense, bm25) over the min-max normalised ``candidates["dense"]``
    and ``candidates["bm25"]``; each hit keeps both raw scores and ``weighted`` (the
    weighted sum). ``Hit.score`` is that sum over the weights' sum: in [0, 1]."""
    dense = {h.chunk.id: h for h in candidates.get("dense", ())}
    bm25 = {h.chunk.id: h for h in candidates.get("bm25", ())}
    fused = weighted([{i: h.score for i, h in dense.items()}, {i: h.score for i, h in bm25.items()}], weights)
    hits = []
    for i in sorted(fused, key=lambda i: -fused[i])[:k]:
        scores = {**(dense[i].scores if i in dense else {}), **(bm25[i].scores if i in bm25 else {}), "weighted": fused[i]}
        hits.append(Hit((dense.get(i) or bm25[i]).chunk, fused[i] / sum(weights), scores))
    return hits


def rrf_hits(candidates: Mapping[str, Sequence[Hit]], k_rrf: int, k: int) -> list[Hit]:
    """Reciprocal rank fusion of best-first hit lists (``{"dense": ..., "bm25": ...}``), client
    side, for lists a backend cannot fuse itself (late interaction's MaxSim order). Each hit
    keeps its lists' scores and adds ``rrf``, which is also ``Hit.score``."""
    fused = rrf([[h.chunk.id for h in hits] for hits in candidates.values()], k_rrf)
    by_id: dict[str, Hit] = {}
    scores_of: dict[str, dict[str, float]] = {}
    for hits in candidates.values():
        for h in hits:
            by_id.setdefault(h.chunk.id, h)
            scores_of.setdefault(h.chunk.id, {}).update(h.scores)
    ranked = sorted(fused, key=lambda i: -fused[i])[:k]
    return [Hit(by_id[i].chunk, fused[i], {**scores_of[i], "rrf": fused[i]}) for i in ranked]
