"""Adaptive fusion as pure functions, and as the default hybrid mode of a real Milvus Lite store."""

from __future__ import annotations

import math

import pytest

from mmrag.retrieval.adaptive import AdaptiveParams, adaptive, coverage, fuse_hits, zscores
from mmrag.stores.base import Fusion, SearchMode, SearchRequest
from mmrag.types import Chunk, Hit, Modality


def test_coverage_counts_distinct_query_words() -> None:
    assert coverage("The Solar panel, the SOLAR array", "a solar panel array") == pytest.approx(3 / 4)
    assert coverage("...", "anything") == 0.0
    assert coverage("exact phrase here", "an exact phrase here too") == 1.0


def test_zscores() -> None:
    z = zscores([("a", 3.0), ("b", 2.0), ("c", 1.0)])
    assert z["a"] == pytest.approx(1.2247, abs=1e-4) and z["b"] == pytest.approx(0.0) and z["c"] == pytest.approx(-1.2247, abs=1e-4)
    assert zscores([("a", 5.0), ("b", 5.0)]) == {"a": 0.0, "b": 0.0}
    assert zscores([]) == {}


DENSE = [("d1", 0.80), ("d2", 0.78), ("d3", 0.60), ("b1", 0.40)]
BM25 = [("b1", 20.0), ("b2", 6.0), ("d3", 5.0), ("b3", 4.0)]


def test_bm25_weight_follows_lexical_coverage() -> None:
    # BM25's top hit holds every query word: BM25 leads (weight = cap) and its top hit wins.
    full = adaptive(DENSE, BM25, "the exact quoted words", "exact quoted words", AdaptiveParams(exponent=3, cap=0.8))
    assert full.bm25_weight == pytest.approx(0.8)
    assert max(full.scores, key=full.scores.get) == "b1"
    # A chance overlap of one word in four: BM25 barely counts and dense's order stands.
    weak = adaptive(DENSE, BM25, "one word matches", "word salad of a question", AdaptiveParams(exponent=3, cap=0.8))
    assert weak.bm25_weight == pytest.approx(0.8 * (1 / 5) ** 3)
    assert sorted(weak.scores, key=lambda k: -weak.scores[k])[:3] == ["d1", "d2", "d3"]


def test_one_sided_lists() -> None:
    only_dense = adaptive(DENSE, [], None, "q")
    assert only_dense.bm25_weight == 0.0 and sorted(only_dense.scores, key=lambda k: -only_dense.scores[k]) == ["d1", "d2", "d3", "b1"]
    only_bm25 = adaptive([], BM25, "x", "q")
    assert only_bm25.bm25_weight == 1.0 and max(only_bm25.scores, key=only_bm25.scores.get) == "b1"
    assert adaptive([], [], None, "q").scores == {}


def test_params_validate() -> None:
    with pytest.raises(ValueError, match="cap"):
        AdaptiveParams(cap=0)
    with pytest.raises(ValueError, match="exponent"):
        AdaptiveParams(exponent=-1)


def _hit(i: str, text: str, score: float, key: str) -> Hit:
    return Hit(Chunk(id=i, doc_id="d", source="s.md", modality=Modality.TEXT, text=text), score, {key: score})


def test_fuse_hits_keeps_both_scores_and_does_not_mutate() -> None:
    dense = [_hit("a", "solar panels in winter", 0.9, "dense"), _hit("b", "wind power", 0.5, "dense")]
    bm25 = [_hit("b", "wind power", 7.0, "bm25"), _hit("c", "power grid", 3.0, "bm25")]
    before = [dict(h.scores) for h in dense + bm25]
    out = fuse_hits({"dense": dense, "bm25": bm25}, "wind power", k=2)
    assert [h.chunk.id for h in out] == ["b", "a"]  # BM25's top hit covers the query fully
    assert out[0].scores["dense"] == 0.5 and out[0].scores["bm25"] == 7.0
    # the score is the logistic of the fused z-score, kept raw under "adaptive"
    assert out[0].score == pytest.approx(1 / (1 + math.exp(-out[0].scores["adaptive"])))
    assert 0 < out[1].score < out[0].score < 1 and out[0].scores["bm25_weight"] > 0.5
    assert [dict(h.scores) for h in dense + bm25] == before
    assert fuse_hits({"dense": [], "bm25": []}, "q", k=3) == []


DOCS = {
    "jeopardy": "SCIENCE: the element with atomic number 79 is gold",
    "ford": "AMERICAN HISTORY: Ford's Theatre, where Lincoln was shot",
    "water": "Water is a polar inorganic compound, tasteless and odorless at room temperature",
    "solar": "Photovoltaic modules convert sunlight into electricity",
    "catalog": "Part number XJ-4471-B replacement gasket for pump housing",
}


@pytest.fixture
def store(milvus_uri: str, text_embedder):
    from mmrag.stores.milvus import MilvusStore

    st = MilvusStore(milvus_uri, collection="fusion")
    st.ensure_collection({"text": text_embedder.spec()})
    chunks = [Chunk(id=k, doc_id="corpus", source="corpus.md", modality=Modality.TEXT, text=t) for k, t in DOCS.items()]
    st.write_source("corpus", chunks, {"text": text_embedder.embed_documents([c.embed_text for c in chunks])}, keep=set())
    yield st
    st.close()


def _request(text_embedder, query: str, **kw) -> SearchRequest:
    return SearchRequest(query, {"text": text_embedder.embed_queries([query])[0]}, **kw)


@pytest.mark.slow  # a Milvus Lite store and MiniLM
def test_adaptive_is_the_default_hybrid_in_milvus(store, text_embedder) -> None:
    req = _request(text_embedder, "how do solar cells turn light into power", k=3)
    assert req.fusion is Fusion.ADAPTIVE and req.mode is SearchMode.HYBRID
    hits = store.search(req)
    assert hits[0].chunk.id == "solar"
    assert {"adaptive", "bm25_weight", "dense"} <= set(hits[0].scores)
    cands = store.candidates(req)
    assert hits == fuse_hits(cands, req.text, 3)  # the store runs exactly the pure function
    assert [h.chunk.id for h in cands["dense"]][0] == "solar"


@pytest.mark.slow  # a Milvus Lite store and MiniLM
def test_exact_identifier_query_is_won_by_bm25(store, text_embedder) -> None:
    hits = store.search(_request(text_embedder, "XJ-4471-B gasket", k=2))
    assert hits[0].chunk.id == "catalog"
    assert hits[0].scores["bm25_weight"] == pytest.approx(AdaptiveParams().cap)  # every query word is in it


@pytest.mark.slow  # a Milvus Lite store and MiniLM
def test_rrf_and_weighted_stay_available(store, text_embedder) -> None:
    for fusion, key in ((Fusion.RRF, "rrf"), (Fusion.WEIGHTED, "weighted")):
        hits = store.search(_request(text_embedder, "Lincoln theatre", k=2, fusion=fusion))
        assert hits[0].chunk.id == "ford" and key in hits[0].scores
    with pytest.raises(ValueError, match="valid: adaptive, rrf, weighted"):
        Fusion.parse("combmnz")
