"""LlamaIndex ``MultiModalEmbedding`` over an mmrag embedder, with real batching."""

from __future__ import annotations

import asyncio
from io import BytesIO
from pathlib import Path
from typing import Any

from llama_index.core.embeddings import MultiModalEmbedding
from llama_index.core.schema import ImageType
from pydantic import PrivateAttr

from mmrag.embedding.base import Embedder
from mmrag.embedding.sentence_transformer import DEFAULT_TEXT_MODEL, SentenceTransformerEmbedder
from mmrag.errors import LoaderError


def check_images(images: list[ImageType]) -> list[Any]:
    """Paths checked to exist (the core's ``LoaderError`` names a missing one); bytes pass through."""
    out: list[Any] = []
    for image in images:
        if isinstance(image, BytesIO):
            out.append(image.getvalue())
        elif not Path(image).is_file():
            raise LoaderError(str(image), "no such file")
        else:
            out.append(str(image))
    return out


class MmragEmbedding(MultiModalEmbedding):
    """Any mmrag pooled embedder as a LlamaIndex embedding: ``embed_model`` of a
    ``VectorStoreIndex`` and, for image-text models, ``image_embed_model`` of a
    ``MultiModalVectorStoreIndex``.

    Example::

        from llama_index.embeddings.mmrag import MmragEmbedding
        Settings.embed_model = MmragEmbedding()                    # offline MiniLM
        clip = MmragEmbedding(embedder=my_clip_embedder)           # texts and images
        index = MultiModalVectorStoreIndex(nodes, embed_model=clip, image_embed_model=clip, ...)

    Text and image batches go to the mmrag embedder whole (``embed_batch_size``
    defaults to the embedder's ``batch_size``), not one item at a time.
    """

    _embedder: Embedder = PrivateAttr()

    def __init__(self, embedder: Embedder | None = None, *, model: str | None = None, **kwargs: Any) -> None:
        if embedder is not None and model is not None:
            raise ValueError("give an embedder or a model name, not both")
        embedder = embedder or SentenceTransformerEmbedder(model or DEFAULT_TEXT_MODEL)
        kwargs.setdefault("embed_batch_size", embedder.batch_size)
        super().__init__(model_name=embedder.model_name, **kwargs)
        self._embedder = embedder

    @classmethod
    def class_name(cls) -> str:
        return "MmragEmbedding"

    @property
    def embedder(self) -> Embedder:
        return self._embedder

    # -- text -----------------------------------------------------------------
    def _get_query_embedding(self, query: str) -> list[float]:
        if not query or not query.strip():
            raise ValueError("the query is empty")
        return self._embedder.embed_queries([query])[0].tolist()

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._get_text_embeddings([text])[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self._embedder.embed_documents(texts).tolist()

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return await asyncio.to_thread(self._get_query_embedding, query)

    async def _aget_text_embedding(self, text: str) -> list[float]:
        return await asyncio.to_thread(self._get_text_embedding, text)

    async def _aget_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return await asyncio.to_thread(self._get_text_embeddings, texts)

    # -- images ---------------------------------------------------------------
    def _get_image_embedding(self, img_file_path: ImageType) -> list[float]:
        return self._get_image_embeddings([img_file_path])[0]

    def _get_image_embeddings(self, img_file_paths: list[ImageType]) -> list[list[float]]:
        return self._embedder.embed_images(check_images(img_file_paths)).tolist()

    async def _aget_image_embedding(self, img_file_path: ImageType) -> list[float]:
        return await asyncio.to_thread(self._get_image_embedding, img_file_path)

    async def _aget_image_embeddings(self, img_file_paths: list[ImageType]) -> list[list[float]]:
        return await asyncio.to_thread(self._get_image_embeddings, img_file_paths)
