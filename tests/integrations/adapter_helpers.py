"""Test helpers for the adapter tests: a tiny image-text Embedder over a CLIP
checkpoint loaded by path, and a real embedding-based reranker."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mmrag.embedding.base import Embedder, l2_normalize
from mmrag.types import Hit, Modality

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_DATA = ROOT / "examples" / "data"
# The text documents of the example corpus: the adapter tests' expectations are
# about these, so they do not shift when the corpus gains decks, scans or media.
EXAMPLE_TEXT_FILES = [EXAMPLE_DATA / n for n in ("solar_report.pdf", "coffee_guide.pdf", "beekeeping.md", "reef.txt")]


class TinyClipEmbedder(Embedder):
    """A pooled image-text embedder over a CLIP checkpoint loaded by path (test-only
    stand-in until mmrag's own CLIP/SigLIP embedder lands)."""

    modalities = frozenset({Modality.TEXT, Modality.IMAGE})

    def __init__(self, path: str, *, batch_size: int = 4) -> None:
        super().__init__(batch_size=batch_size)
        from transformers import AutoTokenizer, CLIPImageProcessor, CLIPModel

        self.model_name = f"tiny-clip:{Path(path).name}"
        self.model = CLIPModel.from_pretrained(path).eval()
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.processor = CLIPImageProcessor.from_pretrained(path)
        self.batches: list[int] = []  # sizes of the batches the model saw (batching is asserted)

    @property
    def dim(self) -> int:
        return int(self.model.config.projection_dim)

    def _embed_texts(self, texts: list[str], *, query: bool) -> np.ndarray:
        import torch

        self.batches.append(len(texts))
        enc = self.tokenizer(texts, padding=True, truncation=True, max_length=32, return_tensors="pt")
        with torch.no_grad():
            out = self.model.get_text_features(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"])
        return l2_normalize(_tensor(out).numpy())

    def _embed_prepared(self, images: list[Any]) -> np.ndarray:
        import torch

        self.batches.append(len(images))  # decoded PIL images, from the base class's decode threads
        pils = images
        pixels = self.processor(images=pils, return_tensors="pt")["pixel_values"]
        with torch.no_grad():
            out = self.model.get_image_features(pixel_values=pixels)
        return l2_normalize(_tensor(out).numpy())


def _tensor(out: Any) -> Any:
    """transformers 5 may return a model output object where 4.x returned a tensor."""
    return out if hasattr(out, "numpy") else out.pooler_output


class EmbeddingReranker:
    """A real second-stage scorer shaped like mmrag rerankers (``rerank(query, hits, k)``):
    re-scores each hit by cosine similarity of the query with the hit's full text or,
    for image hits and an image-text embedder, with its pixels."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self.calls: list[tuple[str, int, int]] = []

    def rerank(self, query: str, hits: Sequence[Hit], k: int) -> list[Hit]:
        self.calls.append((query, len(hits), k))
        q = self.embedder.embed_queries([query])[0]
        visual = [i for i, h in enumerate(hits) if h.chunk.image is not None and Modality.IMAGE in self.embedder.modalities]
        textual = [i for i in range(len(hits)) if i not in visual]
        vectors = np.zeros((len(hits), self.embedder.dim), dtype=np.float32)
        if textual:
            vectors[textual] = self.embedder.embed_documents([hits[i].chunk.embed_text for i in textual])
        if visual:
            vectors[visual] = self.embedder.embed_images([hits[i].chunk.image for i in visual])
        scores = [float(s) for s in vectors @ q]
        order = np.argsort(-np.asarray(scores), kind="stable")[:k]
        return [Hit(hits[i].chunk, scores[i], {**hits[i].scores, "rerank": scores[i]}) for i in order]
