"""The LlamaIndex adapter inside real LlamaIndex objects: VectorStoreIndex, query engine,
MultiModalVectorStoreIndex, with the real MiniLM, a tiny real CLIP and Milvus Lite."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from llama_index.core import Document, StorageContext, VectorStoreIndex
from llama_index.core.indices import MultiModalVectorStoreIndex
from llama_index.core.llms import MockLLM
from llama_index.core.schema import ImageNode, NodeRelationship, QueryBundle, RelatedNodeInfo, TextNode
from llama_index.core.vector_stores.types import (
    FilterCondition,
    FilterOperator,
    MetadataFilter,
    MetadataFilters,
    VectorStoreQuery,
    VectorStoreQueryMode,
)
from llama_index.embeddings.mmrag import MmragEmbedding
from llama_index.postprocessor.mmrag import MmragRerank
from llama_index.readers.mmrag import MmragReader
from llama_index.tools.mmrag import mmrag_search_tool
from llama_index.vector_stores.mmrag import MmragVectorStore

import mmrag
from mmrag.errors import FilterError, LoaderError, ModelMismatchError
from mmrag.retrieval.fusion import min_max
from mmrag.stores import SearchRequest
from tests.integrations.adapter_helpers import EXAMPLE_TEXT_FILES, EXAMPLE_DATA, EmbeddingReranker

HIT_KEYS = {"chunk_id", "doc_id", "source", "modality", "page", "slide", "start", "end", "sheet", "row_start", "row_end", "heading", "attachment", "score", "scores", "text", "context", "image", "metadata"}


@pytest.fixture(scope="module")
def embed(text_embedder: Any) -> MmragEmbedding:
    return MmragEmbedding(text_embedder)


@pytest.fixture(scope="module")
def reader_nodes(text_embedder: Any) -> list:
    return MmragReader(tokenizer=text_embedder.tokenizer).load_data(EXAMPLE_TEXT_FILES)


def _store_index(uri: str, embed: MmragEmbedding, nodes: list) -> tuple[MmragVectorStore, VectorStoreIndex]:
    store = MmragVectorStore(uri, collection="li", embed_model=embed)
    index = VectorStoreIndex(nodes, storage_context=StorageContext.from_defaults(vector_store=store), embed_model=embed)
    return store, index


def test_reader_nodes_carry_locations_and_relationships(reader_nodes: list, ingested: mmrag.Index) -> None:
    pdf = [n for n in reader_nodes if n.metadata["source"].endswith("solar_report.pdf")]
    assert pdf and all(isinstance(n, TextNode) and n.metadata["page"] >= 1 for n in pdf)
    assert {n.metadata["page"] for n in pdf} == {1, 2, 3}
    # Same chunks (ids) as `mmrag ingest` makes, so both paths agree on what is stored.
    assert {n.node_id for n in reader_nodes} == {c.id for s in ingested.store.sources() for c in ingested.store.get(sorted(ingested.store.chunk_ids(s.doc_id)))}
    for prev, nxt in pairwise(pdf):
        assert prev.relationships[NodeRelationship.NEXT].node_id == nxt.node_id
        assert nxt.relationships[NodeRelationship.PREVIOUS].node_id == prev.node_id
    assert NodeRelationship.PREVIOUS not in pdf[0].relationships and NodeRelationship.NEXT not in pdf[-1].relationships
    assert len({n.ref_doc_id for n in pdf}) == 1
    same_page = [n for n in pdf if n.metadata["page"] == pdf[0].metadata["page"]]
    assert len({n.relationships[NodeRelationship.PARENT].node_id for n in same_page}) == 1
    other_page = next(n for n in pdf if n.metadata["page"] != pdf[0].metadata["page"])
    assert pdf[0].relationships[NodeRelationship.PARENT].node_id != other_page.relationships[NodeRelationship.PARENT].node_id


def test_reader_bad_files(tmp_path: Path, text_embedder: Any) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    good = tmp_path / "good.md"
    good.write_text("# Title\n\nSome text about rivers.\n")
    with pytest.raises(LoaderError, match="empty.txt: empty file"):
        MmragReader(tokenizer=text_embedder.tokenizer).load_data([empty, good])
    reader = MmragReader(tokenizer=text_embedder.tokenizer, errors="skip")
    nodes = reader.load_data([empty, good, tmp_path / "missing.pdf"])
    assert [n.metadata["source"] for n in nodes] == [str(good)]
    assert sorted(Path(e.path).name for e in reader.failures) == ["empty.txt", "missing.pdf"]


def test_query_engine_and_retriever(tmp_path: Path, embed: MmragEmbedding, reader_nodes: list) -> None:
    _, index = _store_index(str(tmp_path / "q.db"), embed, reader_nodes)
    nodes = index.as_retriever(similarity_top_k=3).retrieve("lithium iron phosphate batteries")
    assert len(nodes) == 3
    top = nodes[0].node
    assert top.metadata["source"].endswith("solar_report.pdf") and "lithium iron phosphate" in top.get_content().lower()
    assert top.metadata["page"] in (1, 2, 3)
    engine = index.as_query_engine(llm=MockLLM(), similarity_top_k=2)
    response = engine.query("what temperature should coffee water be")
    assert len(response.source_nodes) == 2
    assert response.source_nodes[0].node.metadata["source"].endswith("coffee_guide.pdf")
    # MockLLM echoes its prompt: the retrieved text really reached the LLM.
    assert response.source_nodes[0].node.get_content()[:40] in str(response)
    # Metadata that mmrag adds for filtering is kept out of what the LLM reads, page stays.
    assert "doc_id" not in top.get_content(metadata_mode="llm") and "page" in top.get_content(metadata_mode="llm")


def test_retriever_finds_chunks_outside_the_index_node_list(ingested: mmrag.Index, embed: MmragEmbedding) -> None:
    """The llama-index-vector-stores-milvus bug: as_retriever() restricted search to the
    index's own node dict. Our store keeps text, so an index over an existing collection
    (filled by `mmrag ingest`) finds everything in it."""
    store = MmragVectorStore(index=ingested)
    index = VectorStoreIndex.from_vector_store(store, embed_model=embed)
    found = index.as_retriever(similarity_top_k=2).retrieve("when do bees swarm")
    assert found and found[0].node.metadata["source"].endswith("beekeeping.md")
    assert [n.node.node_id for n in found] == [h.chunk.id for h in ingested.search("when do bees swarm", k=2, mode="dense")]


def test_insert_next_to_ingested_and_delete(tmp_path: Path, text_embedder: Any, embed: MmragEmbedding) -> None:
    core = mmrag.Index(str(tmp_path / "mix.db"), collection="mix", embedder=text_embedder)
    core.ingest([EXAMPLE_DATA / "reef.txt"])
    store = MmragVectorStore(index=core)
    index = VectorStoreIndex.from_vector_store(store, embed_model=embed)
    index.insert(Document(text="Mangrove forests protect coastlines from storm surges.", id_="mangroves", metadata={"topic": "coast"}))
    retriever = index.as_retriever(similarity_top_k=5)
    sources = {n.node.metadata.get("source") or n.node.ref_doc_id for n in retriever.retrieve("coastal ecosystems reef mangrove")}
    assert "mangroves" in sources and any(str(s).endswith("reef.txt") for s in sources)
    index.delete_ref_doc("mangroves")
    assert all(n.node.ref_doc_id != "mangroves" for n in retriever.retrieve("mangrove forests"))
    assert core.store.sources() and all(s.source.endswith("reef.txt") for s in core.store.sources())


def _query(store: MmragVectorStore, embed: MmragEmbedding, text: str, mode: VectorStoreQueryMode, k: int = 4, **kw: Any):
    return store.query(VectorStoreQuery(query_embedding=embed.get_query_embedding(text), query_str=text, similarity_top_k=k, mode=mode, **kw))


def test_query_modes_match_the_core_and_alpha_is_exact(ingested: mmrag.Index, embed: MmragEmbedding) -> None:
    store = MmragVectorStore(index=ingested)
    q = "water temperature for brewing coffee"
    vec = ingested.spaces.embed_query(q)
    dense = ingested.store.search(SearchRequest(q, vec, k=50, mode="dense"))
    bm25 = ingested.store.search(SearchRequest(q, {}, k=50, mode="bm25"))
    assert _query(store, embed, q, VectorStoreQueryMode.DEFAULT).ids == [h.chunk.id for h in dense[:4]]
    for mode in (VectorStoreQueryMode.SPARSE, VectorStoreQueryMode.TEXT_SEARCH):
        assert _query(store, embed, q, mode).ids == [h.chunk.id for h in bm25[:4]]
    rrf = ingested.search(q, k=4)
    assert _query(store, embed, q, VectorStoreQueryMode.HYBRID).ids == [h.chunk.id for h in rrf]
    # alpha: score = alpha * minmax(dense) + (1 - alpha) * minmax(bm25), over the 50-deep candidate lists.
    nd, nb = min_max({h.chunk.id: h.score for h in dense}), min_max({h.chunk.id: h.score for h in bm25})
    # The ends are the pure modes, exactly (the same shortcut in every store).
    assert _query(store, embed, q, VectorStoreQueryMode.HYBRID, k=5, alpha=0.0).ids == [h.chunk.id for h in bm25[:5]]
    assert _query(store, embed, q, VectorStoreQueryMode.HYBRID, k=5, alpha=1.0).ids == [h.chunk.id for h in dense[:5]]
    for alpha in (0.25, 0.8):
        res = _query(store, embed, q, VectorStoreQueryMode.HYBRID, k=5, alpha=alpha)
        expected = {i: alpha * nd.get(i, 0.0) + (1 - alpha) * nb.get(i, 0.0) for i in set(nd) | set(nb)}
        assert np.allclose(res.similarities, [expected[i] for i in res.ids], atol=1e-5)
        assert res.similarities == sorted(res.similarities, reverse=True)
        assert res.similarities[0] == pytest.approx(max(expected.values()), abs=1e-5)
    with pytest.raises(ValueError, match="query mode 'semantic_hybrid' is not supported.*default, sparse"):
        _query(store, embed, q, VectorStoreQueryMode.SEMANTIC_HYBRID)


def _reference_mmr(query: np.ndarray, vectors: dict[str, np.ndarray], k: int, threshold: float) -> list[str]:
    """MMR as LlamaIndex's own stores run it (``get_top_k_mmr_embeddings``), written
    out: each pick maximises threshold * cos(query, d) - (1 - threshold) * cos(d, the
    previous pick); the first is the most relevant."""
    def cos(a: np.ndarray, b: np.ndarray) -> float:
        return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))

    picked: list[str] = []
    while len(picked) < min(k, len(vectors)):
        rest = [i for i in vectors if i not in picked]
        picked.append(max(rest, key=lambda i: threshold * cos(query, vectors[i])
                          - (1 - threshold) * (cos(vectors[i], vectors[picked[-1]]) if picked else 0.0)))
    return picked


def test_mmr_mode_picks_relevant_and_unlike_nodes(tmp_path: Path, embed: MmragEmbedding) -> None:
    texts = {"a": "Coffee brewing needs water at ninety-three degrees.",
             "a2": "Coffee brewing needs water at ninety-three degrees!",  # a near duplicate of a
             "b": "Espresso is coffee pressed through finely ground beans.",
             "c": "Tea leaves steep in hot water for three minutes."}
    nodes = [TextNode(id_=i, text=t, metadata={"kind": "drink" if i != "c" else "tea"}) for i, t in texts.items()]
    store, index = _store_index(str(tmp_path / "mmr.db"), embed, nodes)
    q = "how hot should the water be for coffee"
    dense = _query(store, embed, q, VectorStoreQueryMode.DEFAULT, k=2).ids
    assert set(dense) == {"a", "a2"}  # relevance alone returns the duplicate
    res = _query(store, embed, q, VectorStoreQueryMode.MMR, k=2)
    assert res.ids[0] in ("a", "a2") and res.ids[1] not in ("a", "a2")
    assert all(0.0 <= s <= 1.0 for s in res.similarities)
    stored = store.index.vectors(list(texts))
    qvec = np.asarray(embed.get_query_embedding(q), dtype=np.float32)
    for threshold in (0.2, 0.5, 0.9):
        got = _query(store, embed, q, VectorStoreQueryMode.MMR, k=3, mmr_threshold=threshold)  # on the query
        assert got.ids == _reference_mmr(qvec, stored, 3, threshold), threshold
        by_kwarg = store.query(VectorStoreQuery(query_embedding=qvec.tolist(), similarity_top_k=3,
                                                mode=VectorStoreQueryMode.MMR), mmr_threshold=threshold)
        assert by_kwarg.ids == got.ids
    assert _query(store, embed, q, VectorStoreQueryMode.MMR, k=3, mmr_threshold=1.0).ids == \
        _query(store, embed, q, VectorStoreQueryMode.DEFAULT, k=3).ids  # 1 = relevance only
    # The retriever path LlamaIndex's docs show, with filters and a prefetch depth.
    retriever = index.as_retriever(vector_store_query_mode="mmr", similarity_top_k=2,
                                   vector_store_kwargs={"mmr_threshold": 0.5, "mmr_prefetch_k": 3},
                                   filters=MetadataFilters(filters=[MetadataFilter(key="kind", value="drink")]))
    found = retriever.retrieve(q)
    assert len(found) == 2 and {n.node.node_id for n in found} <= {"a", "a2", "b"} and "b" in {n.node.node_id for n in found}
    mmr = VectorStoreQuery(query_embedding=qvec.tolist(), query_str=q, similarity_top_k=2, mode=VectorStoreQueryMode.MMR)
    with pytest.raises(ValueError, match="mmr_prefetch_k or mmr_prefetch_factor, not both"):
        store.query(mmr, mmr_prefetch_k=4, mmr_prefetch_factor=2.0)
    with pytest.raises(ValueError, match="mmr_threshold is in"):
        store.query(mmr, mmr_threshold=1.5)


def test_metadata_filters(ingested: mmrag.Index, embed: MmragEmbedding) -> None:
    store = MmragVectorStore(index=ingested)
    index = VectorStoreIndex.from_vector_store(store, embed_model=embed)
    pdf = str(EXAMPLE_DATA / "solar_report.pdf")
    f = MetadataFilters(filters=[
        MetadataFilter(key="source", value=pdf),
        MetadataFilter(key="page", value=2, operator=FilterOperator.GTE),
        MetadataFilter(key="page", value=2, operator=FilterOperator.LTE),  # merged into one range
    ])
    found = index.as_retriever(similarity_top_k=10, filters=f).retrieve("solar")
    assert found and {(n.node.metadata["source"], n.node.metadata["page"]) for n in found} == {(pdf, 2)}
    f_in = MetadataFilters(filters=[MetadataFilter(key="modality", value=["text"], operator=FilterOperator.IN)])
    assert len(index.as_retriever(similarity_top_k=3, filters=f_in).retrieve("solar")) == 3
    with pytest.raises(FilterError, match="operator 'contains' is not supported"):
        index.as_retriever(filters=MetadataFilters(filters=[MetadataFilter(key="source", value="solar", operator=FilterOperator.CONTAINS)])).retrieve("solar")
    or_filters = MetadataFilters(filters=[MetadataFilter(key="page", value=1), MetadataFilter(key="page", value=2)], condition=FilterCondition.OR)
    found = index.as_retriever(similarity_top_k=20, filters=or_filters).retrieve("solar")
    assert found and {n.node.metadata["page"] for n in found} == {1, 2}  # every operator: test_llama_index_filters.py
    with pytest.raises(FilterError, match="invalid filter key"):
        index.as_retriever(filters=MetadataFilters(filters=[MetadataFilter(key="bad key", value=1)])).retrieve("solar")


def test_bad_input_gives_the_core_errors(ingested: mmrag.Index, embed: MmragEmbedding, tmp_path: Path, clip_embedder: Any) -> None:
    index = VectorStoreIndex.from_vector_store(MmragVectorStore(index=ingested), embed_model=embed)
    with pytest.raises(ValueError, match="the query is empty"):
        index.as_retriever().retrieve("  ")
    with pytest.raises(ValueError, match="the query is empty"):
        index.as_retriever(vector_store_query_mode="sparse").retrieve("")
    with pytest.raises(LoaderError, match="missing.png: no such file"):
        MmragEmbedding(clip_embedder).get_image_embedding(str(tmp_path / "missing.png"))
    with pytest.raises(ModelMismatchError, match="16-d embeddings.*all-MiniLM-L6-v2"):
        MmragVectorStore(index=ingested).add([TextNode(text="x", embedding=[0.1] * 16)])


def test_node_round_trip_text_image_metadata(tmp_path: Path, clip_embedder: Any, image_files: list[str]) -> None:
    clip = MmragEmbedding(clip_embedder)
    store = MmragVectorStore(str(tmp_path / "rt.db"), embed_model=clip)
    text = TextNode(
        id_="t1", text="A red square on white.", metadata={"author": "ann", "tags": ["a", "b"], "page": 3},
        relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id="doc-1")},
    )
    image = ImageNode(id_="i1", image_path=image_files[0], text="caption", metadata={"author": "bob"})
    for n in (text, image):
        n.embedding = clip.get_text_embedding(n.text) if n is text else clip.get_image_embedding(image_files[0])
    assert store.add([text, image]) == ["t1", "i1"]
    got = {n.node_id: n for n in store.get_nodes(["t1", "i1"])}
    assert isinstance(got["i1"], ImageNode) and got["i1"].image_path == image_files[0] and got["i1"].text == "caption"
    assert got["t1"].text == text.text and got["t1"].metadata == text.metadata and got["i1"].metadata == image.metadata
    assert got["t1"].ref_doc_id == "doc-1"
    # The page metadata also fills the page column, so a page filter works.
    res = store.query(VectorStoreQuery(query_embedding=clip.get_query_embedding("red"), similarity_top_k=5,
                                       filters=MetadataFilters(filters=[MetadataFilter(key="page", value=3)])))
    assert res.ids == ["t1"]
    with pytest.raises(LoaderError, match="gone.png: no such file"):
        store.add([ImageNode(id_="i2", image_path=str(tmp_path / "gone.png"))])  # no embedding: the store reads the file
    store.delete_nodes(["i1"])
    assert [n.node_id for n in store.get_nodes(["t1", "i1"])] == ["t1"]
    store.delete("doc-1")
    assert store.get_nodes(["t1"]) == []


def test_multimodal_index_text_and_images(tmp_path: Path, text_embedder: Any, clip_embedder: Any, image_files: list[str], reader_nodes: list) -> None:
    text_store = MmragVectorStore(str(tmp_path / "mm.db"), collection="text", embed_model=MmragEmbedding(text_embedder))
    image_store = MmragVectorStore(str(tmp_path / "mm.db"), collection="images", embed_model=MmragEmbedding(clip_embedder))
    clip = MmragEmbedding(clip_embedder)
    images = [ImageNode(image_path=p, metadata={"source": p}) for p in image_files]
    clip_embedder.batches.clear()
    index = MultiModalVectorStoreIndex(
        reader_nodes[:6] + images,
        storage_context=StorageContext.from_defaults(vector_store=text_store, image_store=image_store),
        embed_model=MmragEmbedding(text_embedder),
        image_embed_model=clip,
    )
    assert 3 in clip_embedder.batches  # the three images went to CLIP as one batch
    retriever = index.as_retriever(similarity_top_k=2, image_similarity_top_k=3)
    found = retriever.retrieve("a red square")
    found_images = [n for n in found if isinstance(n.node, ImageNode)]
    assert sorted(n.node.image_path for n in found_images) == sorted(image_files)
    q = clip_embedder.embed_queries(["a red square"])[0]
    expected = sorted(image_files, key=lambda p: -float(clip_embedder.embed_images([p])[0] @ q))
    assert [n.node.image_path for n in found_images] == expected
    assert len([n for n in found if not isinstance(n.node, ImageNode)]) == 2
    # Image-to-image: the query image itself comes first.
    same = retriever.image_to_image_retrieve(image_files[1])
    assert same[0].node.image_path == image_files[1]

    # Rerank text and image nodes alike.
    reranker = EmbeddingReranker(clip_embedder)
    kept = MmragRerank(reranker=reranker, top_n=2).postprocess_nodes(found, query_bundle=QueryBundle("a red square"))
    assert len(kept) == 2
    scored = reranker.rerank("a red square", [_hit(n) for n in found], 2)
    assert [n.node.node_id for n in kept] == [h.chunk.id for h in scored]


def _hit(nws: Any) -> Any:
    from llama_index.vector_stores.mmrag.convert import node_to_hit

    return node_to_hit(nws.node, nws.score)


def test_embedding_batches_through_mmrag(clip_embedder: Any, image_files: list[str]) -> None:
    clip = MmragEmbedding(clip_embedder)
    assert clip.embed_batch_size == clip_embedder.batch_size == 4
    clip_embedder.batches.clear()
    vecs = clip.get_text_embedding_batch([f"text {i}" for i in range(6)])
    assert clip_embedder.batches == [4, 2] and len(vecs) == 6
    clip_embedder.batches.clear()
    imgs = clip.get_image_embedding_batch(image_files)
    assert clip_embedder.batches == [3]
    assert np.allclose(imgs, clip_embedder.embed_images(image_files), atol=1e-5)


def test_postprocessor_in_query_engine(tmp_path: Path, embed: MmragEmbedding, reader_nodes: list, text_embedder: Any) -> None:
    _, index = _store_index(str(tmp_path / "pp.db"), embed, reader_nodes)
    reranker = EmbeddingReranker(text_embedder)
    engine = index.as_query_engine(llm=MockLLM(), similarity_top_k=6, node_postprocessors=[MmragRerank(reranker=reranker, top_n=2)])
    response = engine.query("how do coral reefs bleach")
    assert len(response.source_nodes) == 2 and reranker.calls[-1] == ("how do coral reefs bleach", 6, 2)
    assert response.source_nodes[0].score >= response.source_nodes[1].score
    with pytest.raises(TypeError, match="not a reranker"):
        MmragRerank(reranker=object())


def test_function_tool(ingested: mmrag.Index, text_embedder: Any) -> None:
    tool = mmrag_search_tool(ingested)
    out = tool.call(query="perovskite tandem cells", k=2)
    assert len(out.raw_output) == 2 and all(set(h) == HIT_KEYS for h in out.raw_output)
    top = out.raw_output[0]
    assert top["source"].endswith("solar_report.pdf")
    # the citation format of every mmrag surface (mmrag.service.citations): file, place, chunk id
    assert out.content.startswith(f"[1] {Path(top['source']).name}, p. {top['page']} (chunk_id {top['chunk_id']}, score")
    assert tool.metadata.name == "mmrag_search" and "query" in tool.metadata.get_parameters_dict()["properties"]
    assert tool.call(query="perovskite", filters={"source": "nowhere"}).content.startswith("No hits.")
    reranked = mmrag_search_tool(ingested, reranker=EmbeddingReranker(text_embedder), rerank_depth=6).call(query="bees", k=1)
    assert "rerank" in reranked.raw_output[0]["scores"]


def test_any_llama_index_embedding_is_recorded_and_checked(tmp_path: Path, embed: MmragEmbedding) -> None:
    from llama_index.core.embeddings import MockEmbedding

    uri = str(tmp_path / "mock.db")
    mock = MockEmbedding(embed_dim=8)
    store = MmragVectorStore(uri, collection="mock", embed_model=mock)
    index = VectorStoreIndex([TextNode(text="tide pools", id_="a"), TextNode(text="kelp forests", id_="b")],
                             storage_context=StorageContext.from_defaults(vector_store=store), embed_model=mock)
    assert store.index.store.spaces()["text"].model_name == "llama_index:MockEmbedding:unknown"
    assert store.index.store.spaces()["text"].dim == 8
    found = index.as_retriever(similarity_top_k=2, vector_store_query_mode="sparse").retrieve("kelp")
    assert [n.node.node_id for n in found] == ["b"]
    with pytest.raises(ModelMismatchError, match="MockEmbedding"):
        MmragVectorStore(uri, collection="mock", embed_model=embed)


def test_reader_follows_base_reader_conventions(tmp_path, text_embedder) -> None:
    """load_data(file=Path) and SimpleDirectoryReader's extra_info (issue 13 bug 6)."""
    from llama_index.core import SimpleDirectoryReader

    note = tmp_path / "bees.md"
    note.write_text("# Bees\n\nBees dance to share where the flowers are.\n")
    reader = MmragReader(tokenizer=text_embedder.tokenizer)
    by_file = reader.load_data(file=note)
    assert by_file and by_file[0].metadata["source"] == str(note)
    nodes = SimpleDirectoryReader(input_files=[note], file_extractor={".md": reader}).load_data()
    assert [n.node_id for n in nodes] == [n.node_id for n in by_file]
    assert nodes[0].metadata["file_name"] == "bees.md" and nodes[0].metadata["file_path"] == str(note)
    assert nodes[0].metadata["source"] == str(note)  # mmrag's own keys are kept
    with pytest.raises(ValueError, match="once"):
        reader.load_data(note, paths=[note])


def test_similarities_lie_in_unit_range_in_every_mode(ingested: mmrag.Index, embed: MmragEmbedding) -> None:
    store = MmragVectorStore(index=ingested)
    q = "battery storage for the solar farm and the coffee"
    modes = [(VectorStoreQueryMode.DEFAULT, {}), (VectorStoreQueryMode.SPARSE, {}), (VectorStoreQueryMode.HYBRID, {}),
             (VectorStoreQueryMode.HYBRID, {"alpha": 0.3})]
    for mode, kw in modes:
        res = _query(store, embed, q, mode, k=5, **kw)
        assert len(res.similarities) >= 3 and all(0.0 <= s <= 1.0 for s in res.similarities), mode
        assert res.similarities == sorted(res.similarities, reverse=True), mode
    nodes = VectorStoreIndex.from_vector_store(store, embed_model=embed).as_retriever(similarity_top_k=3).retrieve(q)
    assert all(0.0 <= n.score <= 1.0 for n in nodes)


async def test_async_calls_of_the_docs_table(tmp_path: Path, embed: MmragEmbedding) -> None:
    """Rows of docs/llama_index.md's table that no other test reaches: the async store calls."""
    store = MmragVectorStore(str(tmp_path / "async.db"), collection="a", embed_model=embed)
    nodes = [TextNode(id_=f"n{i}", text=t, embedding=embed.get_text_embedding(t),
                      relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=f"doc{i}")})
             for i, t in enumerate(["Walruses haul out on ice.", "Espresso is brewed under pressure."])]
    assert await store.async_add(nodes) == ["n0", "n1"]
    res = await store.aquery(VectorStoreQuery(query_embedding=embed.get_query_embedding("espresso"), similarity_top_k=1))
    assert res.ids == ["n1"]
    assert [n.node_id for n in await store.aget_nodes(["n1", "n0"])] == ["n1", "n0"]
    await store.adelete("doc1")
    await store.adelete_nodes(["n0"])
    assert await store.aget_nodes(["n0", "n1"]) == []
