"""Queries of a plain BERT sentence-transformers folder run in numpy (``NumpyBert``) and give the
vectors sentence-transformers gives; a folder with anything more falls back to sentence-transformers."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from mmrag.embedding.sentence_transformer import SentenceTransformerEmbedder, resolve_model_path
from mmrag.embedding.st_folder import Unsupported, read_plan
from tests.embedding.tiny_models import build_sentence_bert

QUERIES = [
    "how to brew coffee",
    "Ünïcode CAFÉ naïve 日本語 — dashes",
    "",
    "the ferry timetable lists fares and a bicycle ticket costs 8 EUR " * 30,  # past max_seq_length: truncated
]


def both(model: str, **options) -> tuple[np.ndarray, np.ndarray, SentenceTransformerEmbedder]:
    fast = SentenceTransformerEmbedder(model, **options)
    assert fast.query_encoder is not None
    vectors = fast.embed_queries(QUERIES)
    assert fast._model is None  # sentence-transformers never loaded
    slow = SentenceTransformerEmbedder(model, fast_queries=False, **options)
    return vectors, slow.embed_queries(QUERIES), fast


@pytest.fixture(scope="session")
def tiny_st(tmp_path_factory) -> dict[str, str]:
    out = {mode: str(build_sentence_bert(tmp_path_factory.mktemp(f"st-{mode}"), mode, seed=i))
           for i, mode in enumerate(("mean", "cls", "max"))}
    out["dense"] = str(build_sentence_bert(tmp_path_factory.mktemp("st-dense"), dense=True))
    return out


def test_minilm_queries_equal_sentence_transformers(text_embedder):
    fast = SentenceTransformerEmbedder()
    vectors = fast.embed_queries(QUERIES)
    assert fast._model is None and fast.dim == 384 and fast.max_tokens == 256
    np.testing.assert_allclose(vectors, text_embedder.embed_queries(QUERIES), atol=1e-5)
    assert text_embedder.query_encoder is not None and not text_embedder._queries_fast()  # loaded: ST serves both


@pytest.mark.parametrize("options", [
    {"query_instruction": "query: "},
    {"query_instruction": "Instruct: find slides\nQuery: {text}"},
])
def test_minilm_instructions_apply_as_in_sentence_transformers(options):
    fast, slow, _ = both(resolve_model_path(SentenceTransformerEmbedder().model_name), **options)
    np.testing.assert_allclose(fast, slow, atol=1e-5)
    assert not np.allclose(fast, SentenceTransformerEmbedder().embed_queries(QUERIES), atol=1e-3)


@pytest.mark.parametrize("mode", ["mean", "cls", "max"])
def test_tiny_random_models_equal_sentence_transformers(tiny_st, mode):
    assert read_plan(tiny_st[mode]).pooling == mode
    fast, slow, emb = both(tiny_st[mode])
    np.testing.assert_allclose(fast, slow, atol=1e-5)
    assert emb.dim == 32 and emb.max_tokens == 48


def test_saved_prompts_by_name_and_by_default(tiny_st, tmp_path):
    fast, slow, _ = both(tiny_st["mean"], query_prompt_name="query")
    np.testing.assert_allclose(fast, slow, atol=1e-5)
    assert not np.allclose(fast, both(tiny_st["mean"])[0], atol=1e-4)
    folder = shutil.copytree(tiny_st["mean"], tmp_path / "default-prompt")
    config = folder / "config_sentence_transformers.json"
    config.write_text(json.dumps({**json.loads(config.read_text()), "default_prompt_name": "query"}))
    default, slow_default, _ = both(str(folder))
    np.testing.assert_allclose(default, slow_default, atol=1e-5)
    np.testing.assert_allclose(default, fast, atol=1e-5)


def test_lower_case_setting_is_honoured(tmp_path):
    folder = shutil.copytree(resolve_model_path(SentenceTransformerEmbedder().model_name), tmp_path / "cased")
    tok = json.loads((folder / "tokenizer_config.json").read_text())
    tok["do_lower_case"] = False  # a cased tokenizer (accents kept) that sentence_bert_config lowercases
    (folder / "tokenizer_config.json").write_text(json.dumps(tok))
    (folder / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 256, "do_lower_case": True}))
    fast, slow, _ = both(str(folder))
    np.testing.assert_allclose(fast, slow, atol=1e-5)


def test_a_dense_layer_falls_back_to_sentence_transformers(tiny_st):
    with pytest.raises(Unsupported, match="Dense"):
        read_plan(tiny_st["dense"])
    emb = SentenceTransformerEmbedder(tiny_st["dense"])
    assert emb.query_encoder is None
    vectors = emb.embed_queries(["a query"])
    assert emb._model is not None and vectors.shape == (1, 16)  # the Dense layer's output, as before


@pytest.mark.parametrize("change, reason", [
    (("1_Pooling/config.json", {"include_prompt": False}), "prompt out"),
    (("1_Pooling/config.json", {"pooling_mode": "lasttoken"}), "lasttoken"),
    (("config.json", {"hidden_act": "relu"}), "hidden_act"),
    (("sentence_bert_config.json", {"query_length": 16}), "query_length"),
    (("config_sentence_transformers.json", {"truncate_dim": 8}), "truncate_dim"),
])
def test_settings_it_does_not_reproduce_fall_back(tiny_st, tmp_path, change, reason):
    folder = shutil.copytree(tiny_st["mean"], tmp_path / "changed")
    name, values = change
    path = folder / name
    path.write_text(json.dumps({**(json.loads(path.read_text()) if path.is_file() else {}), **values}))
    with pytest.raises(Unsupported, match=reason):
        read_plan(folder)
    assert SentenceTransformerEmbedder(str(folder)).query_encoder is None


def test_an_unknown_prompt_name_is_sentence_transformers_error(tiny_st):
    emb = SentenceTransformerEmbedder(tiny_st["mean"], query_prompt_name="missing")
    assert emb.query_encoder is None
    with pytest.raises(ValueError, match="missing"):
        emb.embed_queries(["x"])


def test_load_prepares_queries_only(tiny_st):
    emb = SentenceTransformerEmbedder(tiny_st["cls"])
    emb.load()
    assert emb._model is None and emb.query_encoder is not None
    emb.embed_documents(["a page"])  # documents go through sentence-transformers
    assert emb._model is not None


def test_a_missing_folder_is_not_a_fast_model(tmp_path):
    assert SentenceTransformerEmbedder(str(tmp_path / "nothing")).query_encoder is None
    assert not Path(tmp_path / "nothing").exists()
