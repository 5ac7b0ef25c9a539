import json
import shutil

import numpy as np
import pytest

from mmrag.embedding.sentence_transformer import SentenceTransformerEmbedder, resolve_model_path


def test_prefix_instructions_apply_to_queries_and_documents_separately(text_embedder):
    emb = SentenceTransformerEmbedder(query_instruction="query: ", document_instruction="passage: ")
    emb._model = text_embedder.model  # share the loaded MiniLM; prompts are applied per call, not stored in it
    np.testing.assert_allclose(emb.embed_queries(["solar"]), text_embedder.embed_queries(["query: solar"]), atol=1e-6)
    np.testing.assert_allclose(emb.embed_documents(["solar"]), text_embedder.embed_documents(["passage: solar"]), atol=1e-6)
    assert not np.allclose(emb.embed_queries(["solar"]), text_embedder.embed_queries(["solar"]), atol=1e-3)


def test_template_instructions_wrap_the_text(text_embedder):
    emb = SentenceTransformerEmbedder(query_instruction="Instruct: find slides\nQuery: {text}")
    emb._model = text_embedder.model
    np.testing.assert_allclose(
        emb.embed_queries(["budget"]), text_embedder.embed_queries(["Instruct: find slides\nQuery: budget"]), atol=1e-6
    )


def test_prompt_names_use_prompts_saved_with_the_model(tmp_path, text_embedder):
    folder = tmp_path / "minilm-with-prompts"
    shutil.copytree(resolve_model_path(text_embedder.model_name), folder)
    config = folder / "config_sentence_transformers.json"
    data = json.loads(config.read_text())
    data["prompts"] = {"query": "query: ", "document": "passage: "}
    config.write_text(json.dumps(data))
    emb = SentenceTransformerEmbedder(str(folder), query_prompt_name="query", document_prompt_name="document")
    np.testing.assert_allclose(emb.embed_queries(["wind"]), text_embedder.embed_queries(["query: wind"]), atol=1e-5)
    np.testing.assert_allclose(emb.embed_documents(["wind"]), text_embedder.embed_documents(["passage: wind"]), atol=1e-5)
    with pytest.raises(ValueError, match="missing"):
        SentenceTransformerEmbedder(str(folder), query_prompt_name="missing").embed_queries(["x"])


def test_minilm_batches_equal_one_by_one(text_embedder):
    texts = ["a", "a longer sentence about the quarterly revenue", "mid size text"]
    batch = text_embedder.embed_documents(texts)
    single = np.concatenate([text_embedder.embed_documents([t]) for t in texts])
    np.testing.assert_allclose(batch, single, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-5)


def test_texts_are_embedded_longest_first_and_returned_in_input_order(text_embedder):
    from mmrag.embedding.base import length_order

    texts = ["mid size", "a", "the longest text of these three"]
    assert length_order(texts) == [2, 0, 1]
    out = text_embedder.embed_documents(texts)
    for text, vec in zip(texts, out):
        np.testing.assert_allclose(vec, text_embedder.embed_documents([text])[0], atol=1e-5)
