"""Scores users can read (issue 13 bug 7): every mode's score lies in its documented
range, the fused raw value stays under ``scores``, and ``relevance_scores`` maps each
result list onto [0, 1] without changing its order."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import mmrag
from mmrag.retrieval.scores import logistic, relevance_scores, score_kind
from mmrag.stores import SearchRequest
from mmrag.types import Chunk, Hit, Modality

TEXTS = [
    "Solar panels convert sunlight into electricity.",
    "The inverter turns direct current into alternating current.",
    "Knead the bread dough for ten minutes.",
    "Arctic terns fly from pole to pole every year.",
    "Battery storage covers the evening peak of demand.",
    "Sourdough starter needs flour and water daily.",
]


def _hit(score: float, **scores: float) -> Hit:
    return Hit(Chunk("c", "d", "s.md", Modality.TEXT, "t"), score, scores or {"dense": score})


def test_relevance_per_kind_is_in_unit_range_and_monotone() -> None:
    assert relevance_scores([_hit(1.0), _hit(0.0), _hit(-1.0)]) == [1.0, 0.5, 0.0]
    bm25 = relevance_scores([_hit(s, bm25=s) for s in (12.0, 3.0, 0.0)])
    assert bm25 == sorted(bm25, reverse=True) and bm25[0] < 1 and bm25[-1] == 0.0
    assert relevance_scores([_hit(2 / 61, rrf=2 / 61), _hit(1 / 70, rrf=1 / 70)]) == pytest.approx([1.0, 61 / 140])
    assert relevance_scores([_hit(12.0, first_stage=0.5, maxsim=12.0, maxsim_mean=0.6)]) == [pytest.approx(0.8)]
    assert relevance_scores([_hit(0.9, rerank=0.9), _hit(0.2, rerank=0.2)]) == [0.9, 0.2]  # a cross-encoder's probabilities
    assert relevance_scores([_hit(0.4, rerank=0.4), _hit(-0.6, rerank=-0.6)]) == pytest.approx([0.7, 0.2])  # cosines
    logits = relevance_scores([_hit(4.0, rerank=4.0), _hit(-3.0, rerank=-3.0)])
    assert logits == pytest.approx([logistic(4.0), logistic(-3.0)])
    assert score_kind(_hit(0.7, dense=0.3, bm25=5.0, adaptive=0.8, bm25_weight=0.2)) == "adaptive"
    assert logistic(-1000.0) == 0.0 and logistic(1000.0) == 1.0


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory, text_embedder) -> mmrag.Index:
    path = Path(tmp_path_factory.mktemp("scores")) / "s.db"
    index = mmrag.Index(str(path), "scores", embedder=text_embedder)
    index.add([Chunk(f"c{i}", f"d{i}", f"f{i}.md", Modality.TEXT, t) for i, t in enumerate(TEXTS)])
    yield index
    index.close()


@pytest.mark.parametrize(
    ("options", "kind", "low", "high"),
    [
        ({"mode": "dense"}, "dense", -1.0, 1.0),
        ({"mode": "bm25"}, "bm25", 0.0, math.inf),
        ({}, "adaptive", 0.0, 1.0),
        ({"weights": (2.0, 1.0)}, "weighted", 0.0, 1.0),
        ({"alpha": 0.4}, "weighted", 0.0, 1.0),
        ({"fusion": "rrf"}, "rrf", 0.0, 2 / 61),
    ],
)
def test_every_mode_scores_in_its_documented_range(index: mmrag.Index, options, kind, low, high) -> None:
    hits = index.search("solar battery electricity current", k=6, **options)
    assert hits and all(score_kind(h) == kind for h in hits)
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True) and all(low <= s <= high + 1e-9 for s in scores)
    relevance = relevance_scores(hits)
    assert relevance == sorted(relevance, reverse=True) and all(0.0 <= r <= 1.0 for r in relevance)
    if kind == "adaptive":  # the fused z-score is kept raw; the score is its logistic
        assert [h.score for h in hits] == pytest.approx([logistic(h.scores["adaptive"]) for h in hits])
        assert any(abs(h.scores["adaptive"]) > 1 for h in hits)
    if kind == "weighted" and "weights" in options:
        assert [h.score for h in hits] == pytest.approx([h.scores["weighted"] / 3.0 for h in hits])


def test_late_hits_carry_the_mean_maxsim(tmp_path: Path) -> None:
    from mmrag.embedding.base import EmbedderSpec, l2_normalize
    from mmrag.stores.milvus import MilvusStore

    store = MilvusStore(str(tmp_path / "late.db"), "late")
    rng = np.random.default_rng(3)
    store.ensure_collection({"pages": EmbedderSpec("tiny", 8, multivector=True)})
    docs = [l2_normalize(rng.standard_normal((4, 8))) for _ in range(5)]
    chunks = [Chunk(f"p{i}", "deck", "deck.pdf", Modality.TEXT, f"page {i}", page=i + 1) for i in range(5)]
    store.write_source("deck", chunks, {"pages": docs}, keep={c.id for c in chunks})
    query = l2_normalize(rng.standard_normal((3, 8)))
    hits = store.search(SearchRequest("", {"pages": query}, k=5, mode="late", candidates=5))
    assert [h.scores["maxsim_mean"] for h in hits] == pytest.approx([h.score / 3 for h in hits])
    relevance = relevance_scores(hits)
    assert relevance == sorted(relevance, reverse=True) and all(0 <= r <= 1 for r in relevance)
    store.close()
