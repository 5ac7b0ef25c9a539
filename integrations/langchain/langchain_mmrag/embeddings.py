"""LangChain ``Embeddings`` over an mmrag embedder, and the reverse wrapper."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

from mmrag.embedding.base import Embedder, EmbedderSpec
from mmrag.embedding.sentence_transformer import DEFAULT_TEXT_MODEL, SentenceTransformerEmbedder
from mmrag.errors import LoaderError


def check_image_paths(uris: Sequence[str]) -> list[str]:
    """The URIs as paths; a missing file raises the core's ``LoaderError`` naming it."""
    out = []
    for uri in uris:
        if not Path(uri).is_file():
            raise LoaderError(uri, "no such file")
        out.append(str(uri))
    return out


class MmragEmbeddings(Embeddings):
    """Any mmrag pooled embedder as LangChain ``Embeddings`` (texts and, for
    image-text models, images via ``embed_image`` like LangChain's CLIP embeddings).

    Example::

        emb = MmragEmbeddings()                       # offline MiniLM
        emb = MmragEmbeddings(model="intfloat/e5-small-v2")
        emb = MmragEmbeddings(embedder=my_clip_embedder)
        vec = emb.embed_query("solar panels")          # list[float]
        img = emb.embed_image(["photo.png"])           # list[list[float]]

    Batching is the mmrag embedder's own (its ``batch_size``).
    """

    def __init__(self, embedder: Embedder | None = None, *, model: str | None = None) -> None:
        if embedder is not None and model is not None:
            raise ValueError("give an embedder or a model name, not both")
        self.embedder = embedder or SentenceTransformerEmbedder(model or DEFAULT_TEXT_MODEL)

    @property
    def model(self) -> str:
        """The model's name, as LangChain embeddings expose it (e.g. a cache namespace)."""
        return self.embedder.model_name

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embedder.embed_documents(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        if not text.strip():
            raise ValueError("the query is empty")
        return self.embedder.embed_queries([text])[0].tolist()

    def embed_image(self, uris: list[str]) -> list[list[float]]:
        """Vectors for image files (the same space as ``embed_query`` for image-text models)."""
        return self.embedder.embed_images(check_image_paths(uris)).tolist()

    async def aembed_image(self, uris: list[str]) -> list[list[float]]:
        return await asyncio.to_thread(self.embed_image, uris)


def underlying(embeddings: Embeddings) -> Embeddings:
    """The model under wrappers that only cache (``CacheBackedEmbeddings``): the
    vectors are the wrapped model's, so the collection records that model."""
    while isinstance(inner := getattr(embeddings, "underlying_embeddings", None), Embeddings):
        embeddings = inner
    return embeddings


class LangChainEmbedder(Embedder):
    """Any LangChain ``Embeddings`` as an mmrag ``Embedder``, so a collection can
    record which model made its vectors and refuse another one later. Vectors
    come through ``embeddings`` (its cache, if any); the recorded spec is the
    underlying model's, so adding or removing a cache keeps the collection valid."""

    def __init__(self, embeddings: Embeddings, *, batch_size: int = 64) -> None:
        super().__init__(batch_size=batch_size)
        self.embeddings = embeddings
        base = underlying(embeddings)
        self._ours = base.embedder if isinstance(base, MmragEmbeddings) else None
        name = getattr(base, "model", None) or getattr(base, "model_name", None)
        size = getattr(base, "size", None)
        self.model_name = f"langchain:{type(base).__name__}" + (f":{name}" if name else "") + (f":{size}" if size else "")
        self._dim: int | None = None

    def spec(self) -> EmbedderSpec:
        return self._ours.spec() if self._ours is not None else super().spec()

    @property
    def dim(self) -> int:
        if self._ours is not None:
            return self._ours.dim
        if self._dim is None:
            self._dim = len(self.embeddings.embed_query("dimension probe"))
        return self._dim

    def _embed_texts(self, texts: list[str], *, query: bool) -> np.ndarray:
        if query:
            return np.asarray([self.embeddings.embed_query(t) for t in texts], dtype=np.float32)
        return np.asarray(self.embeddings.embed_documents(texts), dtype=np.float32)


def as_embedder(embedding: Embeddings | Embedder) -> Embedder:
    """The mmrag embedder behind ``embedding`` (unwrapped when it is ours)."""
    if isinstance(embedding, Embedder):
        return embedding
    if isinstance(embedding, MmragEmbeddings):
        return embedding.embedder
    return LangChainEmbedder(embedding)
