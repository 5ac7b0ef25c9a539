"""MUVERA first stage of late search in the Milvus store, on a real Milvus Lite file:
agreement with exhaustive MaxSim, params recorded and checked, BM25 + late in one
hybrid query, encodings that follow rewrites and deletes, and stores made without one."""

from __future__ import annotations

import json

import numpy as np
import pytest

pymilvus = pytest.importorskip("pymilvus")

from mmrag.embedding.base import EmbedderSpec, l2_normalize
from mmrag.embedding.maxsim import maxsim
from mmrag.embedding.muvera import Muvera
from mmrag.errors import ModelMismatchError, StoreError
from mmrag.retrieval.scores import relevance_scores
from mmrag.stores import SearchMode, SearchRequest
from mmrag.stores.milvus import MilvusStore
from mmrag.stores.milvus.late import late_layout
from mmrag.stores.milvus.rows import fde_field
from mmrag.stores.milvus.schema import MUVERA_PROPERTY
from mmrag.types import Chunk, Modality

DIM, TOKENS = 32, 24
SPEC = {"pages": EmbedderSpec("tiny-colpali", DIM, multivector=True)}


def clustered(n: int, seed: int = 0) -> tuple[list[np.ndarray], np.ndarray]:
    """Pages whose tokens sit around 4 of 48 topic centres (patches of one page share content)."""
    rng = np.random.default_rng(seed)
    centres = l2_normalize(rng.standard_normal((48, DIM)))
    pages = []
    for _ in range(n):
        topics = rng.choice(len(centres), 4, replace=False)
        noise = 0.5 * rng.standard_normal((TOKENS, DIM)) / np.sqrt(DIM)
        pages.append(l2_normalize(centres[rng.choice(topics, TOKENS)] + noise))
    return pages, centres


def query_of(page: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    noise = 0.3 * rng.standard_normal((6, DIM)) / np.sqrt(DIM)
    return l2_normalize(page[rng.choice(len(page), 6)] + noise)


def chunks_of(doc: str, n: int, start: int = 0, texts: list[str] | None = None) -> list[Chunk]:
    return [Chunk(f"p{start + i}", doc, f"{doc}.pdf", Modality.TEXT, texts[i] if texts else f"page {start + i}",
                  page=i + 1) for i in range(n)]


def fill(store: MilvusStore, pages: list[np.ndarray], texts: list[str] | None = None, per_source: int = 50) -> None:
    store.ensure_collection(SPEC)
    for s in range(0, len(pages), per_source):
        part = chunks_of(f"d{s}", min(per_source, len(pages) - s), s, texts[s : s + per_source] if texts else None)
        store.write_source(f"d{s}", part, {"pages": pages[s : s + len(part)]}, keep={c.id for c in part})


def test_layout_choice_native_only_on_servers_from_2_6_4():
    assert late_layout(True, False, "v2.6.4", True) == "native"
    assert late_layout(True, False, "2.7.0-rc1", True) == "native"
    assert late_layout(True, False, "v2.6.3", True) == "companion"
    assert late_layout(True, False, "v2.6.4", False) == "companion"  # pymilvus cannot declare arrays of structs
    assert late_layout(True, True, "v2.6.4", True) == "companion"  # Milvus Lite
    assert late_layout(True, False, "unknown", True) == "companion"
    assert late_layout(False, False, "v2.6.4", True) == "companion"  # no multi-vector space


def test_muvera_first_stage_agrees_with_exhaustive_maxsim(milvus_uri):
    pages, _ = clustered(300)
    store = MilvusStore(milvus_uri, "late")
    fill(store, pages)
    store.flush()
    rng = np.random.default_rng(1)
    encoder = store._fde["pages"]
    docs_fde = encoder.encode_documents(pages)
    recalls = []
    for source in rng.choice(len(pages), 20, replace=False):
        q = query_of(pages[source], rng)
        truth = {f"p{i}" for i in np.argsort(-maxsim(q, pages), kind="stable")[:10]}
        hits = store.search(SearchRequest("", {"pages": q}, k=10, mode=SearchMode.LATE, candidates=60))
        recalls.append(len({h.chunk.id for h in hits} & truth) / 10)
        # the first stage was the MUVERA inner product, and the final score exact MaxSim
        top = hits[0]
        i = int(top.chunk.id[1:])
        np.testing.assert_allclose(top.scores["first_stage"], docs_fde[i] @ encoder.encode_query(q), rtol=1e-3)
        np.testing.assert_allclose(top.score, maxsim(q, [pages[i]])[0], rtol=1e-4)
    assert np.mean(recalls) >= 0.95, recalls
    store.close()


def test_params_are_recorded_and_another_set_is_refused(milvus_uri):
    pages, _ = clustered(20)
    store = MilvusStore(milvus_uri, "late", muvera={"final_dim": 256, "seed": 3})
    fill(store, pages)
    store.close()
    reopened = MilvusStore(milvus_uri, "late")  # no options: the recorded ones are used
    reopened.spaces()
    params = reopened._fde["pages"].params
    assert (params.final_dim, params.seed, params.dim) == (256, 3, DIM)
    fields = {f["name"]: f["params"].get("dim") for f in reopened.client.describe_collection("late")["fields"]}
    assert fields[fde_field("pages")] == 256
    q = query_of(pages[7], np.random.default_rng(2))
    assert reopened.search(SearchRequest("", {"pages": q}, k=1, mode=SearchMode.LATE))[0].chunk.id == "p7"
    reopened.close()
    same = MilvusStore(milvus_uri, "late", muvera={"seed": 3, "final_dim": 256})
    assert same.spaces() == SPEC
    same.close()
    other = MilvusStore(milvus_uri, "late", muvera={"final_dim": 256, "seed": 4})
    with pytest.raises(ModelMismatchError, match=r"encodes 'pages' with MUVERA .*'seed': 3.*asks for .*'seed': 4"):
        other.search(SearchRequest("", {"pages": q}, k=1, mode=SearchMode.LATE))
    with pytest.raises(ModelMismatchError):  # still refused: a failed open caches nothing
        other.spaces()
    other.client.alter_collection_properties("late", {MUVERA_PROPERTY: json.dumps({"pages": {"dim": DIM, "final_dim": 999}})})
    other.close()
    broken = MilvusStore(milvus_uri, "late")
    with pytest.raises(StoreError, match="unreadable MUVERA params .*fde_pages does not hold 999-d"):
        broken.spaces()
    broken.close()
    with pytest.raises(StoreError, match="muvera options take no 'dim'"):
        MilvusStore(milvus_uri, "fresh", muvera={"dim": 8}).ensure_collection(SPEC)


def test_hybrid_fuses_bm25_with_late_interaction(milvus_uri):
    pages, _ = clustered(120, seed=5)
    texts = [f"an ordinary page number {i}" if i % 20 else f"grass of the savanna, page {i}" for i in range(120)]
    texts[42] = "the zebra migration across the savanna"
    store = MilvusStore(milvus_uri, "late")
    fill(store, pages, texts)
    rng = np.random.default_rng(3)
    q = query_of(pages[9], rng)  # the tokens point at page 9, the words at page 42
    for fusion, alpha in (("adaptive", None), ("rrf", None), ("weighted", 0.3)):
        hits = store.search(SearchRequest("zebra savanna", {"pages": q}, k=5, mode=SearchMode.HYBRID, fusion=fusion,
                                          alpha=alpha, candidates=10))
        ids = [h.chunk.id for h in hits]
        assert {"p42", "p9"} <= set(ids), (fusion, ids)
        by_id = {h.chunk.id: h for h in hits}
        assert "bm25" in by_id["p42"].scores and "maxsim" in by_id["p9"].scores
        np.testing.assert_allclose(by_id["p9"].scores["maxsim_mean"], maxsim(q, [pages[9]])[0] / len(q), rtol=1e-4)
        assert relevance_scores(hits) == pytest.approx(  # read as the fusion's scores, not as MaxSim
            [h.score * (61 / 2 if fusion == "rrf" else 1) for h in hits])
    assert store.search(SearchRequest("zebra savanna", {"pages": q}, k=1, fusion="adaptive"))[0].chunk.id == "p42"
    # words that match nothing: the late-interaction side decides
    assert store.search(SearchRequest("quasar", {"pages": q}, k=1))[0].chunk.id == "p9"
    # late mode with text: BM25 joins the first stage, MaxSim orders the candidates
    late = store.search(SearchRequest("zebra savanna", {"pages": q}, k=50, mode=SearchMode.LATE, candidates=50))
    assert "p42" in {h.chunk.id for h in late} and late[0].chunk.id == "p9"
    alone = store.search(SearchRequest("", {"pages": q}, k=50, mode=SearchMode.LATE, candidates=50))
    assert "p42" not in {h.chunk.id for h in alone} and alone[0].chunk.id == "p9"
    store.close()


def test_rewrites_and_deletes_keep_one_current_encoding_per_chunk(milvus_uri):
    pages, _ = clustered(30, seed=9)
    store = MilvusStore(milvus_uri, "late")
    fill(store, pages, per_source=10)
    encoder: Muvera = store._fde["pages"]
    rewritten = chunks_of("d0", 6)  # d0 had p0..p9: now p0..p5, with new tokens
    new_pages = [pages[29 - i] for i in range(6)]
    store.write_source("d0", rewritten, {"pages": new_pages}, keep={c.id for c in rewritten})
    assert store.delete_source("d10") == 10
    rows = store.client.query("late", filter="", output_fields=["id", fde_field("pages")])
    assert sorted(r["id"] for r in rows) == sorted([f"p{i}" for i in range(6)] + [f"p{i}" for i in range(20, 30)])
    current = {**{f"p{i}": new_pages[i] for i in range(6)}, **{f"p{i}": pages[i] for i in range(20, 30)}}
    for r in rows:
        np.testing.assert_allclose(r[fde_field("pages")], encoder.encode_document(current[r["id"]]), rtol=1e-5, atol=1e-6)
    q = query_of(pages[12], np.random.default_rng(4))  # a deleted page's tokens
    hits = store.search(SearchRequest("", {"pages": q}, k=16, mode=SearchMode.LATE, candidates=16))
    assert len(hits) == 16 and {h.chunk.id for h in hits} == set(current)
    store.close()


def test_a_store_made_without_muvera_keeps_the_pooled_first_stage(milvus_uri):
    pages, _ = clustered(40, seed=11)
    old = MilvusStore(milvus_uri, "old", muvera=False)  # the schema of stores made before MUVERA
    fill(old, pages, per_source=20)
    fields = {f["name"] for f in old.client.describe_collection("old")["fields"]}
    assert fde_field("pages") not in fields
    old.close()
    reopened = MilvusStore(milvus_uri, "old")
    q = query_of(pages[3], np.random.default_rng(6))
    hits = reopened.search(SearchRequest("", {"pages": q}, k=10, mode=SearchMode.LATE, candidates=40))
    assert [h.chunk.id for h in hits] == [f"p{i}" for i in np.argsort(-maxsim(q, pages), kind="stable")[:10]]
    more = chunks_of("more", 2, 40)
    reopened.write_source("more", more, {"pages": pages[:2]}, keep={c.id for c in more})  # writes still work
    assert reopened._fde == {}
    reopened.close()
    with pytest.raises(ModelMismatchError, match="made without a MUVERA encoding"):
        MilvusStore(milvus_uri, "old", muvera={"final_dim": 512}).spaces()


def test_milvus_lite_has_no_float16_vectors(milvus_uri):
    """Why token vectors stay FLOAT_VECTOR on Lite (docs/scale-out.md): Lite 3.x refuses the type.
    When this fails, Lite accepts it and the companion rows can be stored in half the bytes."""
    client = pymilvus.MilvusClient(milvus_uri)
    schema = client.create_schema(auto_id=False)
    schema.add_field("id", pymilvus.DataType.INT64, is_primary=True)
    schema.add_field("v", pymilvus.DataType.FLOAT16_VECTOR, dim=8)
    with pytest.raises(pymilvus.exceptions.MilvusException, match="Float16Vector"):
        client.create_collection("half", schema=schema)
    client.close()
