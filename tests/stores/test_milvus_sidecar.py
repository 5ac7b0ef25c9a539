"""The token sidecar of a Milvus Lite store (a SQLite file in its folder), on a real
Lite file: MaxSim from it equals exact MaxSim, rewrites replace and deletes remove
its rows, a recreated collection reads none of the old ones, and a store stopped
between the sidecar write and the chunk rows stays consistent and searchable."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pymilvus = pytest.importorskip("pymilvus")

from mmrag.embedding.base import EmbedderSpec, l2_normalize
from mmrag.embedding.maxsim import maxsim
from mmrag.errors import StoreError
from mmrag.stores import SearchMode, SearchRequest
from mmrag.stores.milvus import MilvusStore
from mmrag.stores.milvus.sidecar import SIDECAR_FILE, decode, encode
from mmrag.types import Chunk, Modality

DIM = 16
SPEC = {"pages": EmbedderSpec("tiny-colpali", DIM, multivector=True)}
RNG = np.random.default_rng(11)


def pages(n: int, tokens: int = 9) -> list[np.ndarray]:
    return [l2_normalize(RNG.standard_normal((tokens, DIM))).astype(np.float32) for _ in range(n)]


def chunks(doc: str, n: int) -> list[Chunk]:
    return [Chunk(f"{doc}-{i}", doc, f"{doc}.pdf", Modality.TEXT, f"{doc} page {i}", page=i + 1) for i in range(n)]


def write(store: MilvusStore, doc: str, vecs: list[np.ndarray]) -> list[Chunk]:
    part = chunks(doc, len(vecs))
    store.write_source(doc, part, {"pages": vecs}, keep={c.id for c in part})
    return part


def late(store: MilvusStore, q: np.ndarray, k: int = 50) -> dict[str, float]:
    hits = store.search(SearchRequest("", {"pages": q}, k=k, mode=SearchMode.LATE, candidates=k))
    return {h.chunk.id: h.score for h in hits}


def fp16(vecs: list[np.ndarray]) -> list[np.ndarray]:
    return [v.astype(np.float16).astype(np.float32) for v in vecs]


@pytest.fixture
def store(milvus_uri):
    store = MilvusStore(milvus_uri, "side")
    store.ensure_collection(SPEC)
    yield store
    store.close()


def test_float16_blobs_round_trip_and_values_beyond_float16_stay_float32():
    mat = RNG.standard_normal((5, DIM)).astype(np.float32)
    n, dim, half, blob = encode(mat)
    assert (n, dim, half, len(blob)) == (5, DIM, True, 5 * DIM * 2)
    np.testing.assert_array_equal(decode(n, dim, half, blob), mat.astype(np.float16).astype(np.float32))
    big = mat * 1e5
    n, dim, half, blob = encode(big)
    assert not half and np.array_equal(decode(n, dim, half, blob), big)


def test_maxsim_from_the_sidecar_equals_exact_maxsim(store):
    docs = pages(20, tokens=13) + pages(10, tokens=3)
    write(store, "a", docs[:20])
    write(store, "b", docs[20:])
    ids = [f"a-{i}" for i in range(20)] + [f"b-{i}" for i in range(10)]
    for q in (docs[4][:5], docs[25][:2], pages(1, tokens=6)[0]):
        got = late(store, q)
        # every candidate reranked: its score is MaxSim over its tokens as stored (float16) ...
        want = dict(zip(ids, maxsim(q, fp16(docs)).tolist()))
        assert set(got) == set(ids)
        for cid, score in got.items():
            assert score == pytest.approx(want[cid], rel=1e-6, abs=1e-6)
        # ... within float16's rounding of exact float32 MaxSim, in the same order
        exact = maxsim(q, docs)
        np.testing.assert_allclose([got[i] for i in ids], exact, rtol=2e-3, atol=2e-3)
        assert list(got)[:10] == [ids[i] for i in np.argsort(-exact, kind="stable")[:10]]
    assert store._sidecar.count() == 30


def test_reingest_replaces_tokens_and_reruns_never_duplicate(store):
    first, second = pages(6), pages(4)
    write(store, "a", first)
    write(store, "a", first)
    assert store._sidecar.count() == 6
    write(store, "a", second)  # the source now has 4 chunks with new tokens
    assert store._sidecar.count() == 4
    q = second[2][:4]
    got = late(store, q)
    np.testing.assert_allclose([got[f"a-{i}"] for i in range(4)], maxsim(q, fp16(second)), rtol=1e-6)


def test_delete_and_delete_source_remove_tokens(store):
    write(store, "a", pages(5))
    write(store, "b", pages(3))
    store.delete(["a-0", "a-1"])
    assert store._sidecar.count() == 6
    store.delete_source("a")
    assert store._sidecar.count() == 3
    assert store.delete_source_path("b.pdf") == 3
    assert store._sidecar.count() == 0 and late(store, pages(1)[0][:3]) == {}


def test_a_recreated_collection_reads_no_stale_tokens(milvus_uri, store):
    write(store, "a", pages(4))
    store.client.drop_collection("side")  # dropped behind mmrag's back, then made again
    store.close()
    again = MilvusStore(milvus_uri, "side")
    again.ensure_collection(SPEC)
    assert again._sidecar.count() == 0  # the old collection's rows were removed on open
    fresh = pages(4)
    write(again, "a", fresh)
    q = fresh[1][:3]
    got = late(again, q)
    np.testing.assert_allclose([got[f"a-{i}"] for i in range(4)], maxsim(q, fp16(fresh)), rtol=1e-6)
    again.close()


class Killed(BaseException):
    """Stands for the process dying: no ``except Exception`` (so no rollback) runs."""


def test_a_store_killed_between_the_sidecar_and_the_chunk_rows_stays_consistent(milvus_uri, store, monkeypatch):
    old = pages(5)
    write(store, "a", old)
    q = old[3][:4]
    before = late(store, q)

    def killed(*args, **kwargs):
        raise Killed()

    monkeypatch.setattr(store.client, "upsert", killed)  # the sidecar is written, the chunk rows never are
    monkeypatch.setattr(store.client, "insert", killed)
    with pytest.raises(Killed):
        write(store, "a", pages(7))
    monkeypatch.undo()
    assert store._sidecar.count() == 5 + 7  # the new tokens are in, with no chunk row pointing at them
    store.close()

    reopened = MilvusStore(milvus_uri, "side")
    assert late(reopened, q) == pytest.approx(before)  # the old version, whole
    assert reopened.chunk_ids("a") == {f"a-{i}" for i in range(5)}
    fresh = write(reopened, "a", pages(2))  # the next ingest replaces it and removes what the crash left
    assert reopened._sidecar.count() == 2 and set(late(reopened, q)) == {c.id for c in fresh}
    reopened.close()


def test_a_store_killed_after_deleting_chunk_rows_leaves_only_unread_tokens(store, monkeypatch):
    write(store, "a", pages(3))
    write(store, "b", pages(2))
    monkeypatch.setattr(store._sidecar, "delete_chunks", lambda keys: (_ for _ in ()).throw(Killed()))
    with pytest.raises(Killed):
        store.delete_source("a")
    monkeypatch.undo()
    assert set(late(store, pages(1)[0][:3])) == {"b-0", "b-1"}  # searchable: the orphans are never candidates
    store.delete_source("a")  # deleting again removes the orphans with their source
    assert store._sidecar.count() == 2


def test_candidates_without_tokens_are_reported_not_scored_zero(store):
    write(store, "a", pages(3))
    store._sidecar.delete_chunks(["a-1"])  # as if the sidecar file lost them
    with pytest.raises(StoreError, match=r"1 of 3 late-search candidates have no token vectors .*sources: a\.pdf.*"
                                         r"mmrag delete --source"):
        late(store, pages(1)[0][:3])


def test_a_server_keeps_its_own_token_layout():
    with pytest.raises(StoreError, match="token_store='sidecar' is a file inside a Milvus Lite store folder"):
        MilvusStore("http://127.0.0.1:1", "x", token_store="sidecar")


def test_flush_folds_the_write_ahead_log_into_the_token_file(milvus_uri, store):
    write(store, "a", pages(20, tokens=200))
    wal = Path(milvus_uri) / f"{SIDECAR_FILE}-wal"
    assert wal.stat().st_size > 0
    store.flush()
    assert wal.stat().st_size == 0 and len(late(store, pages(1)[0][:3])) == 20
