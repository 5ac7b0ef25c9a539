"""The store contract: one suite every ``VectorStore`` backend runs.

A backend's test module subclasses ``StoreContract`` and provides the
``make_store`` fixture (a callable ``collection -> VectorStore`` on a real
database). Text vectors come from the real MiniLM; the multi-vector space uses
random unit token vectors, so MaxSim has a known brute-force answer.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from mmrag.embedding.base import EmbedderSpec, l2_normalize
from mmrag.embedding.maxsim import maxsim
from mmrag.errors import ModelMismatchError, StoreError
from mmrag.stores import Fusion, Range, SearchMode, SearchRequest, VectorStore
from mmrag.stores.filters import And, Eq, Not, Or
from mmrag.types import Chunk, Modality

CONTRACT_KEYS = {
    "chunk_id", "doc_id", "source", "modality", "page", "slide", "start", "end",
    "sheet", "row_start", "row_end", "heading", "attachment",
    "score", "scores", "text", "context", "image", "metadata",
}

DOCS = {
    "solar.pdf": [
        (1, "Solar panels convert sunlight into electricity using photovoltaic cells."),
        (2, "The inverter turns direct current from the panels into alternating current."),
        (3, "Quarterly revenue from rooftop installations grew by twelve percent."),
    ],
    "kitchen.md": [
        (None, "Knead the bread dough for ten minutes, then let it rise in a warm place."),
        (None, "Sourdough starter needs flour and water fed daily."),
    ],
    "talk.mp3": [
        (None, "Welcome everyone, today we talk about migrating birds and their routes."),
        (None, "Arctic terns fly from pole to pole every single year."),
    ],
}


def make_chunks() -> dict[str, list[Chunk]]:
    """Three sources: a PDF with pages, a Markdown file, a transcript with time spans."""
    out: dict[str, list[Chunk]] = {}
    for source, parts in DOCS.items():
        doc_id = f"doc-{source.split('.')[0]}"
        chunks = []
        for i, (page, text) in enumerate(parts):
            timed = source.endswith(".mp3")
            chunks.append(
                Chunk(
                    id=f"{doc_id}-{i}",
                    doc_id=doc_id,
                    source=source,
                    modality=Modality.TEXT,
                    text=text,
                    context=source,
                    page=page,
                    start=30.0 * i if timed else None,
                    end=30.0 * i + 29.5 if timed else None,
                    metadata={"lang": "en", "kind": source.rsplit(".", 1)[1], "n": i},
                )
            )
        out[doc_id] = chunks
    return out


class StoreContract:
    """Subclass and provide ``make_store``; every test here then runs on that backend."""

    @pytest.fixture
    def make_store(self) -> Callable[[str], VectorStore]:  # pragma: no cover - overridden
        raise NotImplementedError

    @pytest.fixture
    def spec(self, text_embedder) -> dict[str, EmbedderSpec]:
        return {"text": text_embedder.spec()}

    @pytest.fixture
    def filled(self, make_store, text_embedder, spec):
        """A store holding the three sources, plus the embedder for queries."""
        store = make_store("contract")
        store.ensure_collection(spec)
        for doc_id, chunks in make_chunks().items():
            vecs = text_embedder.embed_documents([c.embed_text for c in chunks])
            store.write_source(doc_id, chunks, {"text": vecs}, keep={c.id for c in chunks})
        yield store
        store.close()

    @staticmethod
    def query(embedder, text: str, **kw) -> SearchRequest:
        vectors = {} if kw.get("mode") == SearchMode.BM25 else {"text": embedder.embed_queries([text])[0]}
        return SearchRequest(text, vectors, **kw)

    # -- collection ---------------------------------------------------------
    def test_collection_records_specs_and_refuses_another_model(self, make_store, spec, text_embedder):
        store = make_store("specs")
        assert store.spaces() == {}
        store.ensure_collection(spec)
        store.close()
        reopened = make_store("specs")
        assert reopened.spaces() == spec
        reopened.ensure_collection(spec)  # same models: fine
        other_dim = {"text": EmbedderSpec(spec["text"].model_name, spec["text"].dim + 1)}
        with pytest.raises(ModelMismatchError, match="dim"):
            reopened.ensure_collection(other_dim)
        other_instr = {"text": EmbedderSpec(spec["text"].model_name, spec["text"].dim, query_instruction="query: ")}
        with pytest.raises(ModelMismatchError, match="specs"):
            reopened.ensure_collection(other_instr)
        with pytest.raises(ModelMismatchError, match="no 'image' vector space"):
            reopened.ensure_collection({**spec, "image": EmbedderSpec("clip", 8)})
        reopened.close()

    # -- writes -------------------------------------------------------------
    def test_sources_list_counts_and_get_keeps_order(self, filled):
        assert [(s.source, s.doc_id, s.chunks) for s in filled.sources()] == [
            ("kitchen.md", "doc-kitchen", 2), ("solar.pdf", "doc-solar", 3), ("talk.mp3", "doc-talk", 2),
        ]
        got = filled.get(["doc-talk-1", "missing", "doc-solar-0"])
        assert [c.id for c in got] == ["doc-talk-1", "doc-solar-0"]
        assert got[0] == make_chunks()["doc-talk"][1]  # every field survives the round trip
        assert got[1] == make_chunks()["doc-solar"][0]

    def test_upsert_is_idempotent(self, filled, text_embedder):
        chunks = make_chunks()["doc-solar"]
        before = filled.get([c.id for c in chunks])
        vecs = text_embedder.embed_documents([c.embed_text for c in chunks])
        filled.write_source("doc-solar", chunks, {"text": vecs}, keep={c.id for c in chunks})
        assert filled.chunk_ids("doc-solar") == {c.id for c in chunks}
        assert filled.get([c.id for c in chunks]) == before
        assert sum(s.chunks for s in filled.sources()) == 7

    def test_changed_chunk_replaces_the_old_one(self, filled, text_embedder):
        old = make_chunks()["doc-kitchen"][1]
        new = Chunk(old.id, old.doc_id, old.source, Modality.TEXT, "Rye sourdough loaves bake at high heat.",
                    context=old.context, metadata={"lang": "de"})
        vecs = text_embedder.embed_documents([new.embed_text])
        filled.write_source("doc-kitchen", [new], {"text": vecs}, keep={c.id for c in make_chunks()["doc-kitchen"]})
        assert filled.get([old.id]) == [new]
        assert filled.chunk_ids("doc-kitchen") == {c.id for c in make_chunks()["doc-kitchen"]}
        hits = filled.search(self.query(text_embedder, "rye loaves", mode=SearchMode.BM25, k=3))
        assert hits[0].chunk.id == old.id
        assert not filled.search(self.query(text_embedder, "daily", mode=SearchMode.BM25, k=3,
                                            filters={"source": "kitchen.md"}))
        assert [h.chunk.id for h in filled.search(self.query(text_embedder, "x", mode=SearchMode.DENSE, k=9,
                                                             filters={"lang": "de"}))] == [old.id]

    def test_write_source_drops_chunks_not_kept(self, filled, text_embedder):
        first = make_chunks()["doc-solar"][0]
        vecs = text_embedder.embed_documents([first.embed_text])
        filled.write_source("doc-solar", [first], {"text": vecs}, keep={first.id})
        assert filled.chunk_ids("doc-solar") == {first.id}

    def test_write_source_refuses_misaligned_or_foreign_input(self, filled, text_embedder):
        chunks = make_chunks()["doc-solar"]
        vecs = text_embedder.embed_documents([c.embed_text for c in chunks])
        with pytest.raises(StoreError, match="2 vectors for 3 chunks"):
            filled.write_source("doc-solar", chunks, {"text": vecs[:2]}, keep=set())
        with pytest.raises(StoreError, match="another source"):
            filled.write_source("doc-talk", chunks, {"text": vecs}, keep=set())
        assert filled.chunk_ids("doc-solar") == {c.id for c in chunks}

    def test_add_sources_writes_many_new_sources_at_once(self, make_store, spec, text_embedder):
        store = make_store("bulk")
        store.ensure_collection(spec)
        chunks = [c for part in make_chunks().values() for c in part]
        store.add_sources(chunks, {"text": text_embedder.embed_documents([c.embed_text for c in chunks])})
        assert store.chunk_ids_of(["doc-talk", "missing", "doc-solar"]) == {
            "doc-talk": {"doc-talk-0", "doc-talk-1"}, "doc-solar": {f"doc-solar-{i}" for i in range(3)},
        }
        assert [(s.source, s.chunks) for s in store.sources()] == [("kitchen.md", 2), ("solar.pdf", 3), ("talk.mp3", 2)]
        assert store.get(["doc-kitchen-1"]) == [make_chunks()["doc-kitchen"][1]]
        hits = store.search(self.query(text_embedder, "solar panels on the roof", mode=SearchMode.DENSE, k=1))
        assert hits[0].chunk.doc_id == "doc-solar"
        store.close()

    def test_add_sources_refuses_misaligned_input_and_writes_nothing(self, make_store, spec, text_embedder):
        store = make_store("bulk_bad")
        store.ensure_collection(spec)
        chunks = [c for part in make_chunks().values() for c in part]
        vecs = text_embedder.embed_documents([c.embed_text for c in chunks])
        with pytest.raises(StoreError, match="6 vectors for 7 chunks"):
            store.add_sources(chunks, {"text": vecs[:-1]})
        assert store.sources() == [] and store.chunk_ids_of(["doc-solar"]) == {}
        store.close()

    def test_delete_by_ids_and_by_source(self, filled):
        assert filled.delete(["doc-solar-0", "doc-solar-1", "nope"]) == 2
        assert filled.chunk_ids("doc-solar") == {"doc-solar-2"}
        assert filled.delete_source("doc-talk") == 2
        assert filled.chunk_ids("doc-talk") == set()
        assert filled.delete_source_path("kitchen.md") == 2
        assert [s.source for s in filled.sources()] == ["solar.pdf"]
        assert filled.delete_source("doc-talk") == 0

    # -- search -------------------------------------------------------------
    def test_dense_bm25_and_hybrid_find_the_right_chunk(self, filled, text_embedder):
        dense = filled.search(self.query(text_embedder, "how do photovoltaic modules make power", mode=SearchMode.DENSE, k=3))
        assert dense[0].chunk.id == "doc-solar-0"
        assert dense[0].score >= dense[1].score >= dense[2].score
        bm25 = filled.search(self.query(text_embedder, "arctic terns", mode=SearchMode.BM25, k=3))
        assert bm25[0].chunk.id == "doc-talk-1" and bm25[0].score > 0
        for fusion in Fusion:
            hybrid = filled.search(self.query(text_embedder, "bread dough rising", k=3, fusion=fusion))
            assert hybrid[0].chunk.id == "doc-kitchen-0", fusion
            assert len(hybrid) == 3

    def test_weighted_fusion_weights_pick_one_retriever(self, filled, text_embedder):
        # "current" is a keyword match for the inverter chunk; semantically the query is about birds.
        text = "current bird migration"
        bm25 = filled.search(self.query(text_embedder, text, mode=SearchMode.BM25, k=1))[0].chunk.id
        dense = filled.search(self.query(text_embedder, text, mode=SearchMode.DENSE, k=1))[0].chunk.id
        assert bm25 != dense
        only_bm25 = filled.search(self.query(text_embedder, text, k=1, fusion=Fusion.WEIGHTED, weights=(0.0, 1.0)))
        only_dense = filled.search(self.query(text_embedder, text, k=1, fusion=Fusion.WEIGHTED, weights=(1.0, 0.0)))
        assert only_bm25[0].chunk.id == bm25
        assert only_dense[0].chunk.id == dense

    def test_filters_equality_in_and_ranges(self, filled, text_embedder):
        def ids(filters, mode=SearchMode.DENSE):
            return {h.chunk.id for h in filled.search(self.query(text_embedder, "anything at all", mode=mode, k=10,
                                                                 filters=filters))}

        assert ids({"source": "solar.pdf"}) == {"doc-solar-0", "doc-solar-1", "doc-solar-2"}
        assert ids({"page": [1, 3]}) == {"doc-solar-0", "doc-solar-2"}
        assert ids({"page": Range(gte=2)}) == {"doc-solar-1", "doc-solar-2"}
        assert ids({"start": Range(gte=10.0, lte=40.0)}) == {"doc-talk-1"}
        assert ids({"kind": "md", "n": 1}) == {"doc-kitchen-1"}
        assert ids({"doc_id": ["doc-kitchen", "doc-talk"], "n": Range(lte=0)}) == {"doc-kitchen-0", "doc-talk-0"}
        assert ids({"source": "solar.pdf"}, SearchMode.HYBRID) == {"doc-solar-0", "doc-solar-1", "doc-solar-2"}

    def test_not_ne_nin_or_are_exact_complements(self, filled, text_embedder):
        """A row without the key counts as "not equal" in every store; select and
        delete_where take the same filters as search."""
        note = Chunk(id="doc-note-0", doc_id="doc-note", source="note.txt", modality=Modality.TEXT,
                     text="A note without a kind.", metadata={"lang": "de"})
        filled.write_source("doc-note", [note], {"text": text_embedder.embed_documents([note.embed_text])},
                            keep={note.id})

        def ids(filters):
            found = {h.chunk.id for h in filled.search(self.query(text_embedder, "anything", mode=SearchMode.DENSE,
                                                                  k=20, filters=filters))}
            assert found == {c.id for c in filled.select(filters)}
            return found

        every = {c.id for cs in make_chunks().values() for c in cs} | {"doc-note-0"}
        kitchen, solar = {"doc-kitchen-0", "doc-kitchen-1"}, {"doc-solar-0", "doc-solar-1", "doc-solar-2"}
        assert ids(Not(Eq("kind", "md"))) == every - kitchen
        assert ids({"kind": {"$nin": ["md", "mp3"]}}) == solar | {"doc-note-0"}
        assert ids(Not(Range("n", gte=1))) == {"doc-solar-0", "doc-kitchen-0", "doc-talk-0", "doc-note-0"}
        assert ids(Or(Eq("kind", "md"), Range("page", gte=3))) == kitchen | {"doc-solar-2"}
        assert ids({"page": {"$ne": 1}}) == every - {"doc-solar-0"}
        assert ids(Not(And(Eq("lang", "en"), Eq("n", 0)))) == every - {"doc-solar-0", "doc-kitchen-0", "doc-talk-0"}
        assert ids({"kind": None}) == {"doc-note-0"}
        assert ids(Not(Eq("kind", None))) == every - {"doc-note-0"}
        assert filled.delete_where(Not(Eq("lang", "en"))) == 1
        assert {c.id for c in filled.select({"lang": "en"})} == every - {"doc-note-0"}

    def test_filter_values_cannot_inject(self, filled, text_embedder):
        for evil in ['solar.pdf" or source != "', "solar.pdf' or 1==1 or '", 'x") or (1 == 1', "\\\" or true"]:
            for mode in (SearchMode.DENSE, SearchMode.BM25, SearchMode.HYBRID):
                assert filled.search(self.query(text_embedder, "solar", mode=mode, k=5, filters={"source": evil})) == []

    def test_every_hit_carries_the_json_contract(self, filled, text_embedder):
        for mode in (SearchMode.DENSE, SearchMode.BM25, SearchMode.HYBRID):
            hits = filled.search(self.query(text_embedder, "arctic terns fly", mode=mode, k=7))
            assert hits, mode
            for hit in hits:
                d = hit.to_dict()
                assert set(d) == CONTRACT_KEYS
                assert d["scores"] and isinstance(d["score"], float)
            talk = next(h for h in hits if h.chunk.id == "doc-talk-1").to_dict()
            assert (talk["start"], talk["end"], talk["metadata"]["kind"]) == (30.0, 59.5, "mp3")

    def test_search_right_after_a_write_sees_it(self, make_store, text_embedder, spec):
        store = make_store("fresh")
        store.ensure_collection(spec)
        for n in range(3):
            chunk = Chunk(f"c{n}", f"d{n}", f"f{n}.txt", Modality.TEXT, f"unique marker word zebra{n} appears here")
            store.write_source(chunk.doc_id, [chunk], {"text": text_embedder.embed_documents([chunk.text])}, {chunk.id})
            hits = store.search(self.query(text_embedder, f"zebra{n}", mode=SearchMode.BM25, k=1))
            assert [h.chunk.id for h in hits] == [f"c{n}"]
        store.close()

    # -- late interaction ---------------------------------------------------
    def test_late_interaction_matches_brute_force_maxsim(self, make_store):
        rng = np.random.default_rng(7)
        dim, n = 16, 40
        spec = {"pages": EmbedderSpec("tiny-colpali", dim, multivector=True)}
        store = make_store("late")
        store.ensure_collection(spec)
        docs = [l2_normalize(rng.standard_normal((int(rng.integers(3, 12)), dim))) for _ in range(n)]
        docs = [d.astype(np.float16) if i % 2 else d for i, d in enumerate(docs)]  # both dtypes are accepted
        def pid(i: int) -> str:  # every third id is too long for a key column: late search returns it whole
            return f"p{i}" if i % 3 else "pages/of/a/deck/in/a/long/folder/" * 3 + f"p{i}"

        chunks = [Chunk(pid(i), f"src{i % 4}", f"deck{i % 4}.pdf", Modality.TEXT, f"page {i} of deck {i % 4}",
                        page=i // 4 + 1) for i in range(n)]
        for doc in range(4):
            idx = [i for i in range(n) if i % 4 == doc]
            store.write_source(f"src{doc}", [chunks[i] for i in idx], {"pages": [docs[i] for i in idx]},
                               keep={chunks[i].id for i in idx})
        query = l2_normalize(rng.standard_normal((5, dim)))
        want = np.argsort(-maxsim(query, docs), kind="stable")[:10]
        hits = store.search(SearchRequest("", {"pages": query}, k=10, mode=SearchMode.LATE, candidates=n))
        assert [h.chunk.id for h in hits] == [pid(i) for i in want]
        # a store may keep token vectors as float16 (Milvus Lite's sidecar): scores within its rounding
        np.testing.assert_allclose([h.score for h in hits], maxsim(query, docs)[want], rtol=2e-3)
        assert set(hits[0].scores) >= {"maxsim"}
        # filters apply to the first stage; a re-written chunk is scored by its new tokens
        filtered = store.search(SearchRequest("", {"pages": query}, k=3, mode=SearchMode.LATE, candidates=n,
                                              filters={"source": "deck1.pdf"}))
        assert {h.chunk.source for h in filtered} == {"deck1.pdf"}
        store.write_source("src1", [chunks[1]], {"pages": [query]}, keep={c.id for c in chunks if c.doc_id == "src1"})
        top = store.search(SearchRequest("", {"pages": query}, k=1, mode=SearchMode.LATE, candidates=n))[0]
        assert top.chunk.id == "p1"
        np.testing.assert_allclose(top.score, maxsim(query, [query])[0], rtol=2e-3)
        assert store.delete_source("src1") == 10
        again = store.search(SearchRequest("", {"pages": query}, k=n, mode=SearchMode.LATE, candidates=n))
        assert len(again) == 30 and all(h.chunk.doc_id != "src1" for h in again)
        store.close()

    # -- ids of any length ----------------------------------------------------
    def test_ids_of_any_length_come_back_as_given(self, make_store, spec, text_embedder):
        """Paths as ids (LlamaIndex's filename_as_id, LangChain ids from paths) pass
        the 64-byte key column: the store keys a hash and returns the caller's id."""
        store = make_store("long_ids")
        store.ensure_collection(spec)
        doc_id = "/home/someone/projects/report-drafts/2026/quarterly/" + "very-long-folder-name/" * 4 + "notes.md"
        ids = [f"{doc_id}_part_{i}" for i in range(2)] + ["short", "~h:looks-like-a-key", "ünïcödé-" * 9]
        chunks = [Chunk(cid, doc_id, "notes.md", Modality.TEXT, f"marker word walrus{i} in chunk {i}") for i, cid in enumerate(ids)]
        vecs = {"text": text_embedder.embed_documents([c.embed_text for c in chunks])}
        store.write_source(doc_id, chunks, vecs, keep=set(ids))
        store.write_source(doc_id, chunks, vecs, keep=set(ids))  # a re-write replaces, never duplicates
        assert store.chunk_ids(doc_id) == set(ids)
        assert [(s.doc_id, s.chunks) for s in store.sources()] == [(doc_id, len(ids))]
        assert [c.id for c in store.get(ids[::-1])] == ids[::-1]
        assert store.get([ids[0]])[0] == chunks[0]  # metadata keeps no trace of the key
        for i, cid in enumerate(ids):
            hits = store.search(self.query(text_embedder, f"walrus{i}", mode=SearchMode.BM25, k=1))
            assert [(h.chunk.id, h.chunk.doc_id) for h in hits] == [(cid, doc_id)]
        dense = store.search(self.query(text_embedder, "walrus3", mode=SearchMode.DENSE, k=10, filters={"doc_id": doc_id}))
        assert {h.chunk.id for h in dense} == set(ids)
        one = store.search(self.query(text_embedder, "walrus", mode=SearchMode.DENSE, k=10, filters={"chunk_id": [ids[1]]}))
        assert [h.chunk.id for h in one] == [ids[1]]
        assert store.delete([ids[0], "missing"]) == 1
        store.write_source(doc_id, chunks[1:2], {"text": vecs["text"][1:2]}, keep={ids[1]})  # drops the others
        assert store.chunk_ids(doc_id) == {ids[1]}
        assert store.delete_source(doc_id) == 1 and store.sources() == []
        store.close()

    def test_stored_vectors_come_back_by_id(self, filled, text_embedder):
        chunk = make_chunks()["doc-solar"][0]
        got = filled.vectors(["missing", chunk.id], "text")
        assert list(got) == [chunk.id]
        want = text_embedder.embed_documents([chunk.embed_text])[0]
        np.testing.assert_allclose(got[chunk.id], want, atol=1e-5)
        with pytest.raises(StoreError, match="no 'image' space"):
            filled.vectors([chunk.id], "image")

    # -- the ingest manifest --------------------------------------------------
    def test_manifest_keeps_entries_beside_the_chunks(self, make_store, filled):
        from mmrag.manifest import ManifestEntry

        manifest = filled.manifest()
        assert manifest is not None and manifest.get_many(["doc-solar"]) == {}
        # mtime_ns above 2**53: a float64 on the way would round it and every file would look touched
        solar = ManifestEntry("doc-solar", "/data/solar.pdf", "solar.pdf", 1234, 1_764_650_000_123_456_789,
                              "ab" * 32, 3, '{"spaces": {}}', 1.5)
        talk = ManifestEntry("doc-talk", "/data/talk.mp3", "talk.mp3", 9, 7, "cd" * 32, 2, "fp", 2.0)
        manifest.put([solar, talk])
        assert manifest.get_many(["doc-solar", "missing"]) == {"doc-solar": solar}
        newer = ManifestEntry(**solar.to_dict() | {"size": 99, "chunks": 4})
        manifest.put([newer])  # replaces, never duplicates
        reopened = make_store("contract").manifest()
        assert sorted(reopened.entries(), key=lambda e: e.doc_id) == [newer, talk]
        assert reopened.lookup(["doc-talk", "doc-solar"]) == {"doc-solar": newer, "doc-talk": talk}
        reopened.delete(["doc-talk", "missing"])
        assert [e.doc_id for e in manifest.entries()] == ["doc-solar"]
        assert not any("manifest" in c.name.lower() for c in filled.info())  # the manifest is no collection

    def test_manifest_reads_create_nothing_and_writes_need_the_collection(self, make_store):
        from mmrag.manifest import ManifestEntry

        store = make_store("nomanifest")
        manifest = store.manifest()
        assert manifest.get_many(["x"]) == {} and list(manifest.entries()) == []
        manifest.delete(["x"])
        with pytest.raises(StoreError, match="write chunks before"):
            manifest.put([ManifestEntry("x", "/x", "x", 1, 1, "00", 1, "fp", 0.0)])
        store.close()
