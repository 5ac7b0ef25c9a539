"""The LangChain adapter's own behaviour: metadata, modes, filters, images, rerank, tool, errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding
from langchain_core.messages import ToolMessage
from langchain_mmrag import MmragEmbeddings, MmragReranker, MmragRetriever, MmragSearchTool, MmragVectorStore

import mmrag
from mmrag.errors import FilterError, LoaderError, ModelMismatchError
from mmrag.stores import SearchMode, SearchRequest
from tests.integrations.adapter_helpers import EXAMPLE_DATA, EmbeddingReranker

HIT_KEYS = {"chunk_id", "doc_id", "source", "modality", "page", "slide", "start", "end", "sheet", "row_start", "row_end", "heading", "attachment", "score", "scores", "text", "context", "image", "metadata"}


def test_retriever_documents_carry_location_and_scores(ingested: mmrag.Index) -> None:
    docs = MmragRetriever(index=ingested, k=3).invoke("lithium iron phosphate battery storage")
    assert len(docs) == 3
    top = docs[0]
    assert top.metadata["source"].endswith("solar_report.pdf")
    assert top.metadata["page"] >= 1 and top.metadata["modality"] == "text"
    assert "lithium iron phosphate" in top.page_content.lower()
    assert {"chunk_id", "doc_id", "slide", "start", "end", "image", "score", "scores", "context"} <= set(top.metadata)
    assert top.id == top.metadata["chunk_id"]
    # Same hits, same order, as the core API.
    core = ingested.search("lithium iron phosphate battery storage", k=3)
    assert [d.id for d in docs] == [h.chunk.id for h in core]


def test_retriever_mode_filters_and_k(ingested: mmrag.Index) -> None:
    # Sources are stored as given; the fixture ingested the folder by its absolute path.
    retriever = MmragRetriever(index=ingested, k=5, mode="bm25", filters={"source": str(EXAMPLE_DATA / "reef.txt")})
    found = retriever.invoke("coral reef")
    assert found and all(d.metadata["source"].endswith("reef.txt") for d in found)
    docs = MmragRetriever(index=ingested, mode="bm25").invoke("queen cells", k=1)
    assert len(docs) == 1 and docs[0].metadata["source"].endswith("beekeeping.md")
    assert set(docs[0].metadata["scores"]) == {"bm25"}


def test_alpha_is_weighted_fusion_and_ends_are_pure_modes(ingested: mmrag.Index, text_embedder: Any) -> None:
    store = MmragVectorStore(index=ingested)
    q = "water temperature for brewing coffee"
    dense = [d.id for d in store.similarity_search(q, k=5, mode="dense")]
    bm25 = [d.id for d in store.similarity_search(q, k=5, mode="bm25")]
    assert [d.id for d in store.similarity_search(q, k=5, alpha=1.0)] == dense
    # alpha=0: BM25 only. Min-max normalisation gives the weakest BM25 candidate 0,
    # the same as a hit BM25 did not find, so compare the hits that scored.
    bm25_only = [d.id for d, s in store.similarity_search_with_score(q, k=5, alpha=0.0) if s > 0]
    assert bm25_only == bm25[: len(bm25_only)] and len(bm25_only) >= 2
    scored = store.similarity_search_with_score(q, k=3, alpha=0.5)
    hits = ingested.store.search(SearchRequest(q, ingested.spaces.embed_query(q), k=3, fusion="weighted", weights=(0.5, 0.5)))
    assert [(d.id, round(s, 6)) for d, s in scored] == [(h.chunk.id, round(h.score, 6)) for h in hits]


def test_vector_store_round_trip_filters_and_delete(tmp_path: Path, text_embedder: Any) -> None:
    store = MmragVectorStore(MmragEmbeddings(text_embedder), uri=str(tmp_path / "s.db"))
    ids = store.add_texts(
        ["Queens lay up to two thousand eggs a day.", "Drones do not sting.", "Espresso needs fine grounds."],
        metadatas=[{"source": "bees.md", "page": 1}, {"source": "bees.md", "page": 2}, {"source": "coffee.md", "topic": "brew"}],
        ids=["q", "d", "e"],
    )
    assert ids == ["q", "d", "e"]
    got = store.get_by_ids(["e", "q"])
    assert [(d.id, d.page_content, d.metadata) for d in got] == [
        ("e", "Espresso needs fine grounds.", {"source": "coffee.md", "topic": "brew"}),
        ("q", "Queens lay up to two thousand eggs a day.", {"source": "bees.md", "page": 1}),
    ]
    assert [d.id for d in store.similarity_search("bees", k=3, filter={"page": 2})] == ["d"]
    assert [d.id for d in store.similarity_search("bees", k=3, filter={"topic": "brew"})] == ["e"]
    assert {d.id for d in store.similarity_search("bees", k=3, filters={"source": ["bees.md"]}, mode="dense")} == {"q", "d"}
    by_vector = store.similarity_search_by_vector(MmragEmbeddings(text_embedder).embed_query("espresso"), k=1)
    assert [d.id for d in by_vector] == ["e"]
    (doc, relevance), = store.similarity_search_with_relevance_scores("espresso", k=1, mode="dense")
    assert doc.id == "e" and 0.5 < relevance <= 1.0
    store.delete(["q"])
    assert [d.id for d in store.get_by_ids(["q", "d", "e"])] == ["d", "e"]
    # Deleting one chunk of a source keeps its siblings; the source is one doc in the core store.
    assert [s.chunks for s in store.index.store.sources() if s.source == "bees.md"] == [1]


def test_bad_input_gives_the_core_errors(ingested: mmrag.Index, tmp_path: Path) -> None:
    retriever = MmragRetriever(index=ingested)
    with pytest.raises(ValueError, match="the query is empty"):
        retriever.invoke("   ")
    with pytest.raises(FilterError, match="invalid filter key"):
        retriever.invoke("bees", filters={"bad key!": 1})
    with pytest.raises(TypeError, match="unknown search option.*valid"):
        MmragVectorStore(index=ingested).similarity_search("bees", k=2, filtre={"page": 1})
    with pytest.raises(ValueError, match="unknown search mode 'semantic'"):
        retriever.invoke("bees", mode="semantic")
    with pytest.raises(ValueError, match=r"alpha is the dense share in \[0, 1\]"):
        retriever.invoke("bees", alpha=1.5)
    with pytest.raises(LoaderError, match="missing.png: no such file"):
        MmragEmbeddings(ingested.spaces.embedders["text"]).embed_image([str(tmp_path / "missing.png")])
    with pytest.raises(ValueError, match="document id 7 must be a non-empty string"):
        MmragVectorStore(index=ingested).add_texts(["x"], ids=[7])


def test_collection_refuses_another_embedding_model(tmp_path: Path, text_embedder: Any) -> None:
    uri = str(tmp_path / "m.db")
    MmragVectorStore(MmragEmbeddings(text_embedder), uri=uri).add_texts(["a text"])
    with pytest.raises(ModelMismatchError, match="all-MiniLM-L6-v2"):
        MmragVectorStore(DeterministicFakeEmbedding(size=384), uri=uri)


def test_images_through_embeddings_store_and_retriever(tmp_path: Path, clip_embedder: Any, image_files: list[str]) -> None:
    emb = MmragEmbeddings(clip_embedder)
    vectors = emb.embed_image(image_files)
    assert np.allclose(vectors, clip_embedder.embed_images(image_files), atol=1e-5)
    assert len(vectors) == 3 and len(vectors[0]) == clip_embedder.dim

    store = MmragVectorStore(emb, uri=str(tmp_path / "img.db"))
    ids = store.add_images(image_files, metadatas=[{"caption": "a red square"}, {}, {}])
    store.add_texts(["a note about colours"], ids=["note"])
    docs = store.similarity_search("red square", k=4, mode="dense")
    assert {d.id for d in docs} == {*ids, "note"}
    image_docs = [d for d in docs if d.id in ids]
    assert all(d.metadata["modality"] == "image" and d.metadata["image"]["kind"] == "file" for d in image_docs)
    assert {d.metadata["image"]["source"] for d in image_docs} == set(image_files)
    # The stored image vector is the pixels' embedding, not the caption's.
    q = np.asarray(emb.embed_query("red square"))
    expected = sorted(
        [(float(np.asarray(v) @ q), i) for v, i in zip(vectors, ids)] + [(float(np.asarray(emb.embed_documents(["a note about colours"])[0]) @ q), "note")],
        reverse=True,
    )
    assert [d.id for d in docs] == [i for _, i in expected]

    only_images = MmragRetriever(index=store.index, k=5, mode="dense", filters={"modality": "image"}).invoke("shape")
    assert sorted(d.id for d in only_images) == sorted(ids)
    with pytest.raises(LoaderError, match="nope.png: no such file"):
        store.add_images([str(tmp_path / "nope.png")])


def test_reranker_compressor_and_retriever_rerank(ingested: mmrag.Index, text_embedder: Any) -> None:
    reranker = EmbeddingReranker(text_embedder)
    query = "how long should coffee steep"
    first = MmragRetriever(index=ingested, k=6, mode="bm25").invoke("coffee water brew steep temperature")
    kept = MmragReranker(reranker=reranker, top_n=2).compress_documents(first, query)
    assert len(kept) == 2
    expected = reranker.rerank(query, [h for h in ingested.search("coffee water brew steep temperature", k=6, mode="bm25")], 2)
    assert [d.id for d in kept] == [h.chunk.id for h in expected]
    assert [round(d.metadata["relevance_score"], 5) for d in kept] == [round(h.score, 5) for h in expected]
    assert all(d.metadata["source"].endswith("coffee_guide.pdf") for d in kept)

    reranked = MmragRetriever(index=ingested, k=2, reranker=reranker, rerank_depth=8).invoke(query)
    assert reranker.calls[-1] == (query, 8, 2)
    assert len(reranked) == 2 and all("rerank" in d.metadata["scores"] for d in reranked)
    with pytest.raises(TypeError, match="not a reranker"):
        MmragRetriever(index=ingested, reranker=object())


def test_compressor_reranks_image_documents(tmp_path: Path, clip_embedder: Any, image_files: list[str]) -> None:
    store = MmragVectorStore(MmragEmbeddings(clip_embedder), uri=str(tmp_path / "img.db"))
    store.add_images(image_files)
    docs = MmragRetriever(index=store.index, k=3, mode="dense").invoke("a blue stripe")
    reranker = EmbeddingReranker(clip_embedder)
    kept = MmragReranker(reranker=reranker, top_n=3).compress_documents(docs, "a blue stripe")
    # The reranker saw the images (its image path), so its scores are image-text cosines.
    q = clip_embedder.embed_queries(["a blue stripe"])[0]
    cos = {p: float(clip_embedder.embed_images([p])[0] @ q) for p in image_files}
    assert [round(d.metadata["relevance_score"], 4) for d in kept] == sorted((round(c, 4) for c in cos.values()), reverse=True)


def test_tool_returns_text_and_structured_hits(ingested: mmrag.Index) -> None:
    tool = MmragSearchTool(retriever=MmragRetriever(index=ingested))
    msg = tool.invoke({"name": tool.name, "args": {"query": "perovskite tandem cells", "k": 2}, "id": "c1", "type": "tool_call"})
    assert isinstance(msg, ToolMessage)
    assert len(msg.artifact) == 2 and all(set(h) == HIT_KEYS for h in msg.artifact)
    top = msg.artifact[0]
    assert top["source"].endswith("solar_report.pdf") and "perovskite" in top["text"].lower()
    # the citation format of every mmrag surface (mmrag.service.citations): file, place, chunk id
    assert msg.content.startswith(f"[1] {Path(top['source']).name}, p. {top['page']} (chunk_id {top['chunk_id']}, score")
    none = tool.invoke({"name": tool.name, "args": {"query": "perovskite", "filters": {"source": "nowhere.pdf"}}, "id": "c2", "type": "tool_call"})
    assert none.content.startswith("No hits.") and none.artifact == []


async def test_async_paths(ingested: mmrag.Index, text_embedder: Any) -> None:
    emb = MmragEmbeddings(text_embedder)
    assert await emb.aembed_query("bees") == emb.embed_query("bees")
    docs = await MmragRetriever(index=ingested, k=2).ainvoke("bees swarming")
    assert [d.id for d in docs] == [h.chunk.id for h in ingested.search("bees swarming", k=2)]
    assert SearchMode.parse("hybrid") is SearchMode.HYBRID


def test_cache_backed_embeddings_record_the_underlying_model(tmp_path: Path, text_embedder: Any) -> None:
    """LangChain's cache idiom (namespace=embeddings.model) works, and adding or removing
    the cache on an existing collection is accepted: the vectors are the same model's."""
    from langchain_classic.embeddings import CacheBackedEmbeddings
    from langchain_core.stores import InMemoryByteStore

    plain = MmragEmbeddings(text_embedder)
    assert plain.model == "sentence-transformers/all-MiniLM-L6-v2"
    cache = InMemoryByteStore()
    cached = CacheBackedEmbeddings.from_bytes_store(plain, cache, namespace=plain.model, key_encoder="sha256")
    uri = str(tmp_path / "cache.db")
    MmragVectorStore(plain, uri=uri).add_texts(["Walruses climb onto ice with their tusks."], ids=["w"])
    store = MmragVectorStore(cached, uri=uri)  # the cache added: accepted
    store.add_texts(["Espresso is brewed under pressure."], ids=["e"])
    assert len(list(cache.yield_keys())) == 1  # the document went through the cache
    assert [d.id for d in store.similarity_search("espresso coffee", k=1, mode="dense")] == ["e"]
    assert [d.id for d in MmragVectorStore(plain, uri=uri).similarity_search("walrus", k=1, mode="dense")] == ["w"]
    # Any LangChain model: wrapped or not, the same spec; another model is still refused.
    fake = DeterministicFakeEmbedding(size=8)
    other = str(tmp_path / "fake.db")
    MmragVectorStore(fake, uri=other).add_texts(["a"], ids=["a"])
    MmragVectorStore(CacheBackedEmbeddings.from_bytes_store(fake, InMemoryByteStore(), key_encoder="sha256"), uri=other).add_texts(["b"])
    with pytest.raises(ModelMismatchError):
        MmragVectorStore(CacheBackedEmbeddings.from_bytes_store(plain, InMemoryByteStore(), key_encoder="sha256"), uri=other)


MMR_TEXTS = {
    "a": "Honey bees store honey in wax combs inside the hive.",
    "b": "Honey bees keep their honey in wax combs in the hive.",
    "c": "Inside the hive, honey bees store honey within wax combs.",
    "d": "Bumblebees nest in the ground and make little honey.",
}


@pytest.fixture
def mmr_store(tmp_path: Path, text_embedder: Any) -> MmragVectorStore:
    store = MmragVectorStore(MmragEmbeddings(text_embedder), uri=str(tmp_path / "mmr.db"))
    store.add_texts(list(MMR_TEXTS.values()), [{"topic": "bees"} for _ in MMR_TEXTS], ids=list(MMR_TEXTS))
    return store


async def test_mmr_trades_relevance_for_diversity(mmr_store: MmragVectorStore, text_embedder: Any) -> None:
    """MMR over the store's own vectors: near-duplicates give way to the different document."""
    q = "where do honey bees store honey"
    similar = [d.id for d in mmr_store.similarity_search(q, k=2, mode="dense")]
    assert "d" not in similar
    mmr = [d.id for d in mmr_store.max_marginal_relevance_search(q, k=2, fetch_k=4, lambda_mult=0.3)]
    assert mmr[0] == similar[0] and mmr[1] == "d"
    # lambda 1 is relevance only: the dense order
    assert [d.id for d in mmr_store.max_marginal_relevance_search(q, k=2, fetch_k=4, lambda_mult=1.0)] == similar
    vector = MmragEmbeddings(text_embedder).embed_query(q)
    assert [d.id for d in mmr_store.max_marginal_relevance_search_by_vector(vector, k=2, fetch_k=4, lambda_mult=0.3)] == mmr
    assert [d.id for d in await mmr_store.amax_marginal_relevance_search(q, k=2, fetch_k=4, lambda_mult=0.3)] == mmr
    retriever = mmr_store.as_retriever(search_type="mmr", search_kwargs={"k": 2, "fetch_k": 4, "lambda_mult": 0.3})
    assert [d.id for d in retriever.invoke(q)] == mmr
    docs = mmr_store.max_marginal_relevance_search(q, k=4, filter={"topic": "bees"})
    assert sorted(d.id for d in docs) == sorted(MMR_TEXTS) and docs[0].metadata == {"topic": "bees"}
    with pytest.raises(ValueError, match="MMR ranks dense hits"):
        mmr_store.max_marginal_relevance_search(q, mode="bm25")
    with pytest.raises(ValueError, match="lambda_mult is in"):
        mmr_store.max_marginal_relevance_search(q, lambda_mult=2)


async def test_relevance_scores_lie_in_unit_range_in_every_mode(ingested: mmrag.Index) -> None:
    store = MmragVectorStore(index=ingested)
    q = "battery storage for the solar farm and the coffee"
    for options in ({}, {"mode": "dense"}, {"mode": "bm25"}, {"alpha": 0.3}, {"fusion": "rrf"}):
        scored = store.similarity_search_with_relevance_scores(q, k=5, **options)
        relevance = [r for _, r in scored]
        assert len(scored) >= 3 and all(0.0 <= r <= 1.0 for r in relevance), options
        assert relevance == sorted(relevance, reverse=True), options
        assert [d.id for d, _ in scored] == [d.id for d in store.similarity_search(q, k=5, **options)]
    assert [r for _, r in await store.asimilarity_search_with_relevance_scores(q, k=3)] == [
        r for _, r in store.similarity_search_with_relevance_scores(q, k=3)]
    best = scored[0][1]
    retriever = store.as_retriever(search_type="similarity_score_threshold",
                                   search_kwargs={"k": 5, "score_threshold": best, "fusion": "rrf"})
    assert [d.id for d in retriever.invoke(q)] == [scored[0][0].id]


async def test_the_calls_the_docs_table_lists(tmp_path: Path, text_embedder: Any) -> None:
    """Rows of docs/langchain.md's table that no other test reaches."""
    from langchain_core.documents import Document

    emb = MmragEmbeddings(text_embedder)
    store = await MmragVectorStore.afrom_texts(["Bees dance.", "Espresso is strong."], emb, ids=["b", "e"],
                                               uri=str(tmp_path / "calls.db"), collection="calls")
    docs = MmragVectorStore.from_documents([Document(id="t", page_content="Terns migrate far.")], emb,
                                           uri=str(tmp_path / "calls.db"), collection="calls")
    assert [d.id for d in docs.get_by_ids(["t", "b"])] == ["t", "b"]
    assert [d.id for d in store.search("espresso", "similarity", k=1)] == ["e"]
    assert [d.id for d in store.search("espresso", "mmr", k=1, fetch_k=3)] == ["e"]
    assert [d.id for d in store.search("espresso", "similarity_score_threshold", k=1)] == ["e"]
    assert isinstance(MmragVectorStore(index=store.index).embeddings, MmragEmbeddings)
    retriever = store.as_retriever(search_kwargs={"k": 1, "mode": "bm25"})
    assert [d.id for d in await retriever.ainvoke("espresso")] == ["e"]
    assert [[d.id for d in r] for r in retriever.batch(["espresso", "terns"])] == [["e"], ["t"]]
    from langchain_classic.retrievers import ContextualCompressionRetriever

    both = store.as_retriever(search_kwargs={"k": 3, "mode": "dense"})
    compressed = ContextualCompressionRetriever(
        base_compressor=MmragReranker(reranker=EmbeddingReranker(text_embedder), top_n=1), base_retriever=both)
    (best,) = compressed.invoke("coffee")
    assert best.id == "e" and "relevance_score" in best.metadata
    await store.adelete(["e"])
    assert [d.id for d in await store.aget_by_ids(["e", "b"])] == ["b"]
