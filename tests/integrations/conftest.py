"""Fixtures for the LangChain/LlamaIndex adapter tests: a tiny real CLIP model, real
PNG files, an ingested Milvus Lite collection and a real (embedding-based) reranker.

No CLIP weights exist offline, so a randomly initialised CLIPModel is built from a
config, saved to a temp folder and loaded back by path through ``from_pretrained``
exactly as a real checkpoint would be; its rankings are meaningless, its shapes,
batching and plumbing are real.
"""

from __future__ import annotations

from typing import Any

import pytest

import mmrag
from tests.integrations.adapter_helpers import EXAMPLE_TEXT_FILES, TinyClipEmbedder


@pytest.fixture(scope="session")
def tiny_clip_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A random CLIPModel + tokenizer + image processor saved like a hub checkpoint."""
    import torch
    from transformers import AutoTokenizer, CLIPConfig, CLIPImageProcessor, CLIPModel

    from mmrag.embedding.sentence_transformer import resolve_model_path

    path = tmp_path_factory.mktemp("tiny-clip")
    tokenizer = AutoTokenizer.from_pretrained(resolve_model_path("sentence-transformers/all-MiniLM-L6-v2"))
    config = CLIPConfig(
        text_config={
            "vocab_size": tokenizer.vocab_size, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
            "num_attention_heads": 2, "max_position_embeddings": 64, "eos_token_id": tokenizer.sep_token_id,
            "pad_token_id": tokenizer.pad_token_id,
        },
        vision_config={
            "image_size": 32, "patch_size": 8, "hidden_size": 32, "intermediate_size": 64,
            "num_hidden_layers": 2, "num_attention_heads": 2,
        },
        projection_dim=16,
    )
    torch.manual_seed(0)
    CLIPModel(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}).save_pretrained(path)
    return str(path)


@pytest.fixture(scope="session")
def clip_embedder(tiny_clip_path: str) -> TinyClipEmbedder:
    return TinyClipEmbedder(tiny_clip_path)


@pytest.fixture(scope="session")
def image_files(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """Three real PNGs written by Pillow: a red square, a green circle, a blue stripe."""
    from PIL import Image, ImageDraw

    folder = tmp_path_factory.mktemp("images")
    out = []
    for name, color, shape in [("red_square", "red", "rect"), ("green_circle", "green", "ellipse"), ("blue_stripe", "blue", "stripe")]:
        img = Image.new("RGB", (48, 48), "white")
        draw = ImageDraw.Draw(img)
        if shape == "rect":
            draw.rectangle((8, 8, 40, 40), fill=color)
        elif shape == "ellipse":
            draw.ellipse((6, 6, 42, 42), fill=color)
        else:
            draw.rectangle((0, 18, 48, 30), fill=color)
        path = folder / f"{name}.png"
        img.save(path)
        out.append(str(path))
    return out


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory, text_embedder: Any) -> mmrag.Index:
    """The example folder ingested by mmrag itself (not through an adapter); tests only read it."""
    index = mmrag.Index(str(tmp_path_factory.mktemp("ingested") / "store.db"), collection="docs", embedder=text_embedder)
    report = index.ingest(EXAMPLE_TEXT_FILES)
    assert report.ok and report.chunks_written > 0
    yield index
    index.close()
