"""Cross-encoder reranking: the model reads query and candidate text together."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mmrag.embedding.loading import model_errors
from mmrag.errors import InvalidArgument, MmragError
from mmrag.reranking.base import Reranker
from mmrag.reranking.models import default_device, shared
from mmrag.types import Hit


class CrossEncoderReranker(Reranker):
    """Scores (query, candidate text) pairs with a sentence-transformers ``CrossEncoder``.

    Example::

        rr = CrossEncoderReranker("cross-encoder/ms-marco-MiniLM-L6-v2", batch_size=16)
        rr = CrossEncoderReranker("/models/my-reranker", device="cuda", max_length=256)
        hits = rr.rerank(query, hits, k=10)

    Scores are probabilities in (0, 1): the sigmoid of the model's single
    relevance logit, so they read the same across queries. A candidate is read
    as its ``embed_text`` (context header + text; an image chunk by its caption or
    OCR text). Pairs longer than ``max_length`` tokens are truncated, the longer
    side first, so the query survives; ``None`` uses the model's own limit.
    """

    def __init__(
        self, model: str, *, device: str | None = None, batch_size: int = 32, max_length: int | None = 512
    ) -> None:
        if batch_size < 1:
            raise InvalidArgument(f"batch_size must be >= 1, got {batch_size}")
        self.model_name = model
        self.device = device
        self.batch_size = batch_size
        self.max_length = max_length

    @property
    def model(self) -> Any:
        """The loaded ``CrossEncoder``, shared by every reranker with the same model and device."""
        device = self.device or default_device()
        return shared("cross-encoder", f"{self.model_name}|{self.max_length}", device, lambda: self._load(device))

    def _load(self, device: str) -> Any:
        import torch
        from sentence_transformers import CrossEncoder

        with model_errors(self.model_name):
            model = CrossEncoder(self.model_name, device=device, trust_remote_code=False, max_length=self.max_length, activation_fn=torch.nn.Sigmoid())
        if model.num_labels != 1:
            raise MmragError(
                f"{self.model_name} has {model.num_labels} output labels; a reranker needs one relevance logit"
            )
        return model

    def score(self, query: str, hits: Sequence[Hit]) -> np.ndarray:
        if not hits:
            return np.zeros(0, dtype=np.float32)
        pairs = [(query, h.chunk.embed_text) for h in hits]
        scores = self.model.predict(pairs, batch_size=self.batch_size, show_progress_bar=False, convert_to_numpy=True)
        return np.asarray(scores, dtype=np.float32).reshape(-1)
