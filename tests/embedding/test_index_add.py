"""Index.add: the one write door the adapters use, with a multi-vector space."""

import numpy as np
import pytest

import mmrag
from mmrag.embedding.late_interaction import ColBERTEmbedder
from mmrag.embedding.spaces import EmbeddingSpaces
from mmrag.types import Chunk, Modality


def chunk(doc: str, i: int, text: str) -> Chunk:
    return Chunk(id=f"{doc}-{i}", doc_id=doc, source=f"{doc}.txt", modality=Modality.TEXT, text=text)


def test_add_upserts_per_source_in_a_multi_vector_space(tmp_path, colbert_path, text_embedder):
    """The adapters' old write loop sliced ``v[rows]``: a TypeError for a
    multi-vector space (a list of (n_i, d) arrays)."""
    spaces = EmbeddingSpaces({"text": text_embedder, "tokens": ColBERTEmbedder(colbert_path, document_length=32)})
    index = mmrag.Index(str(tmp_path / "s.db"), "door", embedder=spaces)
    ids = index.add([chunk("a", 0, "bees dance"), chunk("b", 0, "ants march"), chunk("a", 1, "bees sting")])
    assert ids == ["a-0", "b-0", "a-1"]
    index.add([chunk("a", 0, "bees dance to share flowers")])  # an upsert keeps the source's other chunk
    assert {c.id: c.text for c in index.store.get(["a-0", "a-1", "b-0"])} == {
        "a-0": "bees dance to share flowers", "a-1": "bees sting", "b-0": "ants march"}
    q = {"tokens": spaces.embedders["tokens"].embed_queries(["bees flowers"])[0]}
    late = index.run(mmrag.stores.SearchRequest("bees flowers", q, k=3, mode="late"))
    assert late[0].chunk.id == "a-0" and "maxsim" in late[0].scores
    index.close()


def test_add_takes_precomputed_vectors_and_keeps_the_last_of_a_repeated_id(tmp_path, text_embedder):
    index = mmrag.Index(str(tmp_path / "s.db"), "pre", embedder=text_embedder)
    vecs = text_embedder.embed_documents(["one", "two", "three"])
    assert index.add([chunk("a", 0, "one"), chunk("a", 1, "two"), chunk("a", 0, "three")], {"text": vecs}) == ["a-1", "a-0"]
    (hit,) = index.search("three", k=1, mode="dense")
    assert hit.chunk.text == "three" and hit.score == pytest.approx(1.0, abs=1e-5)
    assert np.isclose(index.search("two", k=1, mode="dense")[0].score, 1.0, atol=1e-5)
    index.close()


def test_search_takes_alpha_weights_and_candidates(tmp_path, text_embedder):
    index = mmrag.Index(str(tmp_path / "s.db"), "opts", embedder=text_embedder)
    index.add([chunk("a", i, t) for i, t in enumerate(["solar panels on roofs", "wind turbines at sea", "solar wind"])])
    dense = [h.chunk.id for h in index.search("solar energy", k=3, mode="dense")]
    bm25 = [h.chunk.id for h in index.search("solar energy", k=3, mode="bm25")]
    assert [h.chunk.id for h in index.search("solar energy", k=3, alpha=1.0)] == dense
    assert [h.chunk.id for h in index.search("solar energy", k=3, alpha=0.0)] == bm25
    mixed = index.search("solar energy", k=3, weights=(0.5, 0.5), candidates=3)
    assert all("weighted" in h.scores for h in mixed)
    assert [h.scores["weighted"] for h in mixed] == sorted((h.scores["weighted"] for h in mixed), reverse=True)
    with pytest.raises(mmrag.InvalidArgument, match="alpha or weights"):
        index.search("solar", alpha=0.5, weights=(1, 1))
    with pytest.raises(mmrag.InvalidArgument, match="hybrid search"):
        index.search("solar", mode="dense", alpha=0.5)
    index.close()
