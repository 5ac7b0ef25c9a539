"""Milvus-specific behaviour on a real Milvus Lite file: several dense spaces in
one hybrid search, RRF's k, batching, all-or-nothing writes, filter escaping."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pymilvus = pytest.importorskip("pymilvus")

from mmrag.embedding.base import EmbedderSpec, l2_normalize
from mmrag.errors import FilterError, StoreError
from mmrag.stores import Range, SearchMode, SearchRequest
from mmrag.stores.milvus import MilvusStore, plan_batches, server_version, to_milvus_filter, token_collection
from mmrag.stores.milvus.sidecar import SIDECAR_FILE
from mmrag.types import Chunk, Modality
from tests.stores.contract import StoreContract

RNG = np.random.default_rng(3)


def unit(n: int, dim: int) -> np.ndarray:
    return l2_normalize(RNG.standard_normal((n, dim)))


def text_chunks(doc: str, texts: list[str]) -> list[Chunk]:
    return [Chunk(f"{doc}-{i}", doc, f"{doc}.txt", Modality.TEXT, t, page=i + 1) for i, t in enumerate(texts)]


def test_plan_batches_respects_bytes_and_rows():
    assert plan_batches([10, 10, 10, 10], max_bytes=25, max_rows=100) == [range(2), range(2, 4)]
    assert plan_batches([10] * 5, max_bytes=1000, max_rows=2) == [range(2), range(2, 4), range(4, 5)]
    assert plan_batches([50, 5, 5], max_bytes=20, max_rows=10) == [range(1), range(1, 3)]  # oversized row alone
    assert plan_batches([], max_bytes=20) == []


def test_server_version_is_read_not_guessed():
    assert server_version("v2.6.4") == (2, 6, 4)
    assert server_version("2.6.10-rc1") == (2, 6, 10)
    assert server_version("milvus_lite-3.2.2") is None
    assert server_version("unknown") is None


def test_lite_keeps_tokens_in_its_sidecar_file_and_in_token_rows_on_request(milvus_uri):
    store = MilvusStore(milvus_uri, "late")
    assert not store.supports_native_late()
    store.ensure_collection({"pages": EmbedderSpec("tiny", 4, multivector=True)})
    assert not store.client.has_collection(token_collection("late", "pages"))
    assert (Path(milvus_uri) / SIDECAR_FILE).is_file()
    rows = MilvusStore(milvus_uri, "rows", token_store="rows")
    rows.ensure_collection({"pages": EmbedderSpec("tiny", 4, multivector=True)})
    assert rows.client.has_collection(token_collection("rows", "pages"))
    assert [c.name for c in store.info()] == ["late", "rows"]  # the companion is not listed as a collection
    rows.close()
    store.close()
    with pytest.raises(StoreError, match="unknown token_store 'disk': use one of sidecar, rows"):
        MilvusStore(milvus_uri, "x", token_store="disk")
    with pytest.raises(StoreError, match="tokens_per_row packs token rows: it needs token_store='rows'"):
        MilvusStore(milvus_uri, "x", tokens_per_row=4)


def test_two_dense_spaces_are_searched_together(milvus_uri, text_embedder):
    """A text space (MiniLM) and an 'image' space (another model, other dim): one
    hybrid_search finds a chunk that only the image space matches."""
    store = MilvusStore(milvus_uri, "multi")
    spaces = {"text": text_embedder.spec(), "image": EmbedderSpec("tiny-clip", 8)}
    store.ensure_collection(spaces)
    chunks = text_chunks("d", ["Solar panels on a roof.", "A recipe for bread.", "Figure 3: a bar chart."])
    image = unit(3, 8)
    store.write_source("d", chunks, {"text": text_embedder.embed_documents([c.text for c in chunks]), "image": image},
                       keep={c.id for c in chunks})
    qtext = text_embedder.embed_queries(["solar energy"])[0]
    text_only = store.search(SearchRequest("solar energy", {"text": qtext}, k=1, mode=SearchMode.DENSE))
    assert text_only[0].chunk.id == "d-0"
    image_only = store.search(SearchRequest("", {"image": image[2]}, k=1, mode=SearchMode.DENSE))
    assert image_only[0].chunk.id == "d-2"
    both = store.search(SearchRequest("solar", {"text": qtext, "image": image[2]}, k=2, mode=SearchMode.HYBRID))
    assert {h.chunk.id for h in both} == {"d-0", "d-2"}
    dense_both = store.search(SearchRequest("", {"text": qtext, "image": image[2]}, k=2, mode=SearchMode.DENSE))
    assert {h.chunk.id for h in dense_both} == {"d-0", "d-2"} and "dense" in dense_both[0].scores  # best cosine per chunk
    with pytest.raises(StoreError, match="vectors are for spaces"):
        store.write_source("e", text_chunks("e", ["x"]), {"text": text_embedder.embed_documents(["x"])}, set())
    store.close()


def test_rrf_k_is_passed_to_milvus(milvus_uri, text_embedder):
    store = MilvusStore(milvus_uri, "rrf")
    store.ensure_collection({"text": text_embedder.spec()})
    chunks = text_chunks("d", ["Arctic terns migrate from pole to pole.", "Bread needs flour.", "Cars need fuel."])
    store.write_source("d", chunks, {"text": text_embedder.embed_documents([c.text for c in chunks])}, set())
    q = {"text": text_embedder.embed_queries(["arctic terns migrate"])[0]}
    for k in (60, 5):
        top = store.search(SearchRequest("arctic terns migrate", q, k=1, rrf_k=k, fusion="rrf"))[0]
        assert top.chunk.id == "d-0"
        assert top.score == pytest.approx(2 / (k + 1), rel=1e-4)  # first in both lists
    store.close()


def snapshot(store: MilvusStore) -> tuple:
    rows = store.client.query(store.collection, filter="", output_fields=["id", "text", "late_gen", "dense_pages"])
    tokens = store.client.query(token_collection(store.collection, "pages"), filter="", output_fields=["chunk_id", "gen"])
    return (
        sorted((r["id"], r["text"], r["late_gen"], tuple(np.round(r["dense_pages"], 5))) for r in rows),
        sorted((t["chunk_id"], t["gen"]) for t in tokens),
    )


@pytest.fixture
def late_store(milvus_uri):
    """A store with a text-less multi-vector space, small batches (many per source), one source written."""
    # rows counted below; an 8-d MUVERA encoding keeps the rows about as small as without one
    store = MilvusStore(milvus_uri, "atomic", batch_bytes=2048, retries=1, tokens_per_row=1, muvera={"final_dim": 8},
                        token_store="rows")
    store.ensure_collection({"pages": EmbedderSpec("tiny-colpali", 8, multivector=True)})
    chunks = text_chunks("d", [f"page {i} text" for i in range(12)])
    store.write_source("d", chunks, {"pages": [unit(5, 8) for _ in chunks]}, keep={c.id for c in chunks})
    yield store, chunks
    store.close()


def test_bulk_insert_failing_midway_leaves_nothing(milvus_uri, monkeypatch):
    store = MilvusStore(milvus_uri, "bulk", batch_bytes=1, retries=0)  # one row per insert
    store.ensure_collection({"text": EmbedderSpec("tiny", 8)})
    chunks = [c for d in ("a", "b", "c") for c in text_chunks(d, [f"{d} paragraph {i}" for i in range(6)])]
    real, calls = store.client.insert, []

    def insert(collection, data, **kw):  # the real client's insert, made to fail on the third batch
        calls.append(len(data))
        if len(calls) == 3:
            raise pymilvus.exceptions.MilvusException(code=1, message="injected: disk full")
        return real(collection, data, **kw)

    monkeypatch.setattr(store.client, "insert", insert)
    with pytest.raises(StoreError, match="18 chunks of 3 sources failed, nothing changed: .*injected"):
        store.add_sources(chunks, {"text": unit(18, 8)})
    assert calls == [1, 1, 1]  # two rows were in before the failure, and were undone
    monkeypatch.undo()
    assert store.sources() == [] and store.chunk_ids_of(["a", "b", "c"]) == {}
    store.close()


def test_failure_mid_source_leaves_the_old_state(late_store, monkeypatch):
    store, chunks = late_store
    before = snapshot(store)
    # The new version of the source: two chunks changed in place, one new, the rest gone.
    changed = [Chunk(c.id, c.doc_id, c.source, c.modality, c.text + " (edited)", page=c.page) for c in chunks[:2]]
    new = [*changed, *(Chunk(f"d-{i}", "d", "d.txt", Modality.TEXT, f"new page {i}", page=i + 1) for i in range(12, 24))]
    calls = []

    def failing(method):  # the real client's write, made to fail on the chunk rows' 2nd batch
        real = getattr(store.client, method)

        def write(collection, data, **kw):
            if collection == store.collection:
                calls.append((method, len(data)))
                if len(calls) in (2, 3):  # the second batch and its retry; the rollback's restore goes through
                    raise pymilvus.exceptions.MilvusException(code=1, message="injected: connection lost")
            return real(collection, data, **kw)

        return write

    monkeypatch.setattr(store.client, "insert", failing("insert"))
    monkeypatch.setattr(store.client, "upsert", failing("upsert"))
    with pytest.raises(StoreError, match="nothing changed: .*injected"):
        store.write_source("d", new, {"pages": [unit(5, 8) for _ in new]}, keep={c.id for c in new})
    # batch 1 (new rows) inserted, batch 2 (new + changed rows) tried twice (retries=1), then the 2 changed rows restored
    assert [m for m, _ in calls] == ["insert", "upsert", "upsert", "upsert"] and calls[-1][1] == 2
    monkeypatch.undo()
    assert snapshot(store) == before
    assert store.get([chunks[0].id])[0].text == "page 0 text"


def test_transient_failure_is_retried(late_store, monkeypatch):
    store, _ = late_store
    real_insert = store.client.insert
    failures = []

    def flaky_insert(collection, data, **kw):
        if not failures:
            failures.append(1)
            raise pymilvus.exceptions.MilvusException(code=1, message="injected: busy")
        return real_insert(collection, data, **kw)

    monkeypatch.setattr(store.client, "insert", flaky_insert)
    extra = [Chunk("x-0", "x", "x.txt", Modality.TEXT, "another source")]
    store.write_source("x", extra, {"pages": [unit(3, 8)]}, keep={"x-0"})
    assert failures and store.chunk_ids("x") == {"x-0"}


def test_wrong_dimension_in_a_later_batch_changes_nothing(late_store):
    store, chunks = late_store
    before = snapshot(store)
    vectors = [unit(5, 8) for _ in chunks]
    vectors[-1] = unit(5, 7)
    with pytest.raises(StoreError, match=r"chunk 11 needs an \(n_tokens>0, 8\) array"):
        store.write_source("d", chunks, {"pages": vectors}, keep=set())
    assert snapshot(store) == before


def test_a_rewrite_replaces_token_rows_and_delete_removes_them(late_store):
    store, chunks = late_store
    tokens = token_collection(store.collection, "pages")
    count = lambda: store.client.query(tokens, filter="", output_fields=["count(*)"])[0]["count(*)"]
    assert count() == 12 * 5
    store.write_source("d", chunks[:3], {"pages": [unit(2, 8) for _ in range(3)]}, keep={c.id for c in chunks[:3]})
    assert count() == 3 * 2
    store.delete(["d-0"])
    assert count() == 2 * 2
    store.delete_source("d")
    assert count() == 0


def test_milvus_filter_escapes_values_and_rejects_bad_keys():
    expr = to_milvus_filter({"source": 'a" or id != "', "page": Range(gte=2, lte=3), "tag": ["x", 'y"']})
    assert expr == (
        '(source == "a\\" or id != \\"") and (page >= 2 and page <= 3) and (metadata["tag"] == "x" or metadata["tag"] == "y\\"")'
    )
    for key in ['tag"] or 1==1 or metadata["x', "a b", "1x"]:
        with pytest.raises(FilterError, match="invalid filter key"):
            to_milvus_filter({key: 1})
    with pytest.raises(FilterError, match="control characters"):
        to_milvus_filter({"source": "a\x00"})


def test_injected_filter_key_on_a_real_store_raises_and_matches_nothing(milvus_uri):
    store = MilvusStore(milvus_uri, "inj")
    store.ensure_collection({"pages": EmbedderSpec("tiny", 4, multivector=True)})
    chunks = text_chunks("d", ["alpha", "beta"])
    store.write_source("d", chunks, {"pages": [unit(2, 4), unit(2, 4)]}, keep=set())
    q = {"pages": unit(2, 4)}
    with pytest.raises(FilterError):
        store.search(SearchRequest("alpha", q, mode=SearchMode.HYBRID, filters={'x"] == 1 or id != "': 1}))
    assert store.search(SearchRequest("alpha", q, mode=SearchMode.LATE, filters={"source": 'd.txt" or "1"=="1'})) == []
    assert len(store.search(SearchRequest("alpha", q, mode=SearchMode.LATE, filters={"source": "d.txt"}))) == 2
    store.close()


def test_packed_token_rows_give_the_same_late_ranking(milvus_uri):
    """tokens_per_row=3 (ragged last rows) must rank exactly like brute-force MaxSim too."""
    StoreContract().test_late_interaction_matches_brute_force_maxsim(
        lambda c: MilvusStore(milvus_uri, c, tokens_per_row=3, token_store="rows"))
    reopened = MilvusStore(milvus_uri, "late")
    reopened.spaces()
    assert reopened.tokens_per_row == 3  # recorded in the collection, not taken from the caller


def test_lite_token_rows_pack_by_default_and_old_collections_keep_their_layout(milvus_uri):
    store = MilvusStore(milvus_uri, "packed", token_store="rows")
    store.ensure_collection({"pages": EmbedderSpec("tiny", 4, multivector=True)})
    store.write_source("d", text_chunks("d", ["alpha"]), {"pages": [unit(40, 4)]}, keep=set())
    tokens = token_collection("packed", "pages")
    assert store.tokens_per_row == 32
    assert store.client.query(tokens, filter="", output_fields=["count(*)"])[0]["count(*)"] == 2  # 40 tokens, 2 rows
    store.close()
    old = MilvusStore(milvus_uri, "one_per_row", tokens_per_row=1, token_store="rows")
    old.ensure_collection({"pages": EmbedderSpec("tiny", 4, multivector=True)})
    old.close()
    reopened = MilvusStore(milvus_uri, "one_per_row")  # the default does not override what the collection records
    reopened.spaces()
    assert reopened.tokens_per_row == 1
    reopened.close()
