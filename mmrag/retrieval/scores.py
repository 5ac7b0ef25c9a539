"""What ``Hit.score`` means in each mode, and the same ranking as a relevance in [0, 1].

==========================  =====================================  ===========  ==========================
search                      ``Hit.score``                          range        ``Hit.scores`` keeps
==========================  =====================================  ===========  ==========================
dense                       cosine similarity                      [-1, 1]      ``dense``
bm25                        BM25                                   [0, inf)     ``bm25``
hybrid, adaptive (default)  logistic of the fused z-score          (0, 1)       ``adaptive`` (the fused
                                                                                z-score), ``bm25_weight``
hybrid, weighted / alpha    weighted sum of min-max scores,        [0, 1]       ``weighted`` (the raw sum)
                            divided by the weights' sum
hybrid, rrf                 sum of 1 / (k + rank)                  (0, n/(k+1)] ``rrf``
late                        MaxSim (sum over query tokens)         [-n, n]      ``maxsim``, ``maxsim_mean``
hybrid, multi-vector query  the fusion's (its vector side:         its own      the fusion's, ``maxsim``
                            ``maxsim_mean``)
reranked                    the reranker's score                   its own      ``first_stage``, ``rerank``
==========================  =====================================  ===========  ==========================

``relevance_scores`` maps a result list onto [0, 1] by the kind of its scores,
monotone (a better hit never gets a lower relevance). It is what the LangChain
and LlamaIndex adapters report where those frameworks expect [0, 1].
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from mmrag.types import Hit

RRF_K = 60  # SearchRequest's default k


def logistic(x: float) -> float:
    """``1 / (1 + e^-x)``, without overflow for large ``|x|``."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def score_kind(hit: Hit) -> str:
    """Which stage set ``hit.score``: the last one, read from the keys in ``hit.scores``.
    A fusion's key comes before ``maxsim``: hybrid on a multi-vector space fuses late
    hits, which keep their MaxSim keys (a late hit's first stage is ``first_stage``)."""
    for kind in ("blend", "rerank", "adaptive", "weighted", "rrf", "maxsim", "bm25", "dense"):
        if kind in hit.scores:
            return kind
    return "dense"


def _unit(kind: str, score: float, rerank_scale: str, rrf_k: int) -> float:
    if kind == "dense":
        return (1.0 + score) / 2.0  # cosine
    if kind == "bm25":
        return score / (1.0 + score) if score > 0 else 0.0
    if kind == "rrf":
        return score * (rrf_k + 1) / 2.0  # 1 for a chunk first in both lists
    if kind == "rerank":
        return {"unit": score, "cosine": (1.0 + score) / 2.0}.get(rerank_scale, logistic(score))
    return score  # adaptive, weighted and blend are already in [0, 1]


def relevance_scores(hits: Sequence[Hit], *, rrf_k: int = RRF_K) -> list[float]:
    """One relevance in [0, 1] per hit, in the order given.

    dense: ``(1 + cosine) / 2``; bm25: ``s / (1 + s)``; adaptive, weighted and
    blended scores as they are; rrf: the score over its two-list maximum
    ``2 / (k + 1)``; late: ``(1 + maxsim_mean) / 2``, the mean best cosine per query
    token; reranked: the reranker's score if the whole list lies in [0, 1] (cross
    encoders), ``(1 + s) / 2`` if in [-1, 1] (cosine), else its logistic.
    """
    rerank = [h.score for h in hits if score_kind(h) == "rerank"]
    scale = "logistic"
    if rerank and all(0.0 <= s <= 1.0 for s in rerank):
        scale = "unit"
    elif rerank and all(-1.0 <= s <= 1.0 for s in rerank):
        scale = "cosine"
    out = []
    for h in hits:
        kind = score_kind(h)
        if kind == "maxsim":
            value = (1.0 + h.scores.get("maxsim_mean", 0.0)) / 2.0
        else:
            value = _unit(kind, float(h.score), scale, rrf_k)
        out.append(min(1.0, max(0.0, value)))
    return out
