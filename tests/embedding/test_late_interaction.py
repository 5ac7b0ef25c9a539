import numpy as np
import pytest

from mmrag.embedding.late_interaction import ColBERTEmbedder, PageEmbedder
from mmrag.embedding.maxsim import maxsim
from mmrag.errors import MmragError, ModelMismatchError
from mmrag.stores.base import check_specs
from tests.embedding.tiny_models import build_colbert


def assert_unit_rows(vectors):
    for v in vectors:
        assert v.dtype == np.float32 and v.ndim == 2
        np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)


def assert_same_lists(a, b, atol=1e-5):
    assert [x.shape for x in a] == [x.shape for x in b]
    for x, y in zip(a, b):
        np.testing.assert_allclose(x, y, atol=atol)


@pytest.fixture(scope="module")
def colpali(colpali_path):
    emb = PageEmbedder(colpali_path, batch_size=2)
    emb.load()
    return emb


@pytest.fixture(scope="module")
def colbert(colbert_path):
    emb = ColBERTEmbedder(colbert_path, query_length=16, document_length=64, batch_size=2)
    emb.load()
    return emb


@pytest.mark.parametrize("path_fixture", ["colpali_path", "colqwen2_path"])
def test_page_models_give_unit_token_vectors_batch_equal_to_one_by_one(path_fixture, request, jpegs):
    emb = PageEmbedder(request.getfixturevalue(path_fixture), batch_size=2)
    pages = emb.embed_images(jpegs[:3])
    assert len(pages) == 3 and all(p.shape[1] == emb.dim == 16 for p in pages)
    assert_unit_rows(pages)
    assert_same_lists(pages, [emb.embed_images([p])[0] for p in jpegs[:3]])
    queries = ["revenue by region", "a much longer question about the chart on page three"]
    q = emb.embed_queries(queries)
    assert_unit_rows(q)
    assert_same_lists(q, [emb.embed_queries([t])[0] for t in queries])
    assert emb.spec().multivector and emb.spec().dim == 16


def test_page_embedder_ranks_with_maxsim_and_pools_stored_vectors(colpali_path, jpegs):
    full = PageEmbedder(colpali_path)
    pooled = PageEmbedder(colpali_path, pool_factor=3, float16=True)
    pages, small = full.embed_images(jpegs[:2]), pooled.embed_images(jpegs[:2])
    for p, s in zip(pages, small):
        assert len(s) == -(-len(p) // 3)
        np.testing.assert_array_equal(s, s.astype(np.float16).astype(np.float32))
    q = full.embed_queries(["red boot"])[0]
    assert len(pooled.embed_queries(["red boot"])[0]) == len(q)  # queries are never pooled
    scores = maxsim(q, pages)
    assert scores.shape == (2,)
    assert scores[0] == pytest.approx(float((q @ pages[0].T).max(axis=1).sum()), rel=1e-5)


def test_text_documents_go_through_the_query_path_with_the_document_instruction(colpali_path):
    emb = PageEmbedder(colpali_path, document_instruction="passage: ")
    plain = PageEmbedder(colpali_path)
    assert_same_lists(emb.embed_documents(["chart"]), plain.embed_queries(["passage: chart"]))


def test_a_non_late_interaction_checkpoint_is_refused(clip_path):
    with pytest.raises(MmragError, match="page embedders load colpali, colqwen2"):
        PageEmbedder(clip_path).load()


def test_colbert_projects_masks_punctuation_and_augments_queries(colbert):
    docs = colbert.embed_documents(["Paris is the capital of France.", "Hello, world!"])
    assert colbert.dim == 12 and all(d.shape[1] == 12 for d in docs)
    assert_unit_rows(docs)
    tok = colbert.tokenizer
    # [CLS] [D] tokens [SEP], minus the punctuation tokens
    for text, d in zip(["Paris is the capital of France.", "Hello, world!"], docs):
        ids = tok(text, add_special_tokens=False)["input_ids"]
        words = [i for i in ids if tok.convert_ids_to_tokens(i) not in {".", ",", "!"}]
        assert len(d) == len(words) + 3
    q = colbert.embed_queries(["capital of France", "a"])
    assert [x.shape for x in q] == [(16, 12), (16, 12)]  # padded with [MASK] to query_length, all kept
    assert_unit_rows(q)
    texts = ["one", "two words here", "Hello, world! Again."]
    assert_same_lists(colbert.embed_documents(texts), [colbert.embed_documents([t])[0] for t in texts])
    assert_same_lists(colbert.embed_queries(texts), [colbert.embed_queries([t])[0] for t in texts])


def test_colbert_query_and_document_markers_differ(colbert_path):
    emb = ColBERTEmbedder(colbert_path, query_length=16, query_augmentation=False, mask_punctuation=False)
    q, d = emb.embed_queries(["same text"])[0], emb.embed_documents(["same text"])[0]
    assert q.shape == d.shape
    assert not np.allclose(q, d, atol=1e-3)
    with pytest.raises(MmragError, match="no marker token"):
        ColBERTEmbedder(colbert_path, query_marker="[Q]").embed_queries(["x"])


def test_colbert_without_a_saved_projection_uses_hidden_states(tmp_path):
    emb = ColBERTEmbedder(str(build_colbert(tmp_path, projection=False)))
    assert emb.dim == 32
    assert emb.embed_documents(["hello there"])[0].shape == (5, 32)  # [CLS] [D] hello there [SEP]


def test_colbert_pooling_and_mismatched_specs(colbert_path, colbert):
    pooled = ColBERTEmbedder(colbert_path, document_length=64, pool_factor=2)
    text = "one two three four five six seven eight nine ten"
    assert len(pooled.embed_documents([text])[0]) == -(-len(colbert.embed_documents([text])[0]) // 2)
    stored = {"late": colbert.spec()}
    check_specs("c", stored, {"late": ColBERTEmbedder(colbert_path).spec()})
    # the collection records instructions too: a different query instruction is refused
    with pytest.raises(ModelMismatchError, match="was built with"):
        check_specs("c", stored, {"late": ColBERTEmbedder(colbert_path, query_instruction="search: ").spec()})
