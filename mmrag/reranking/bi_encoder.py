"""Bi-encoder reranking: cosine of query and candidate vectors from a text embedder.

Weaker than a cross-encoder (query and candidate never meet inside the model),
but it needs no extra weights: with the default MiniLM it reorders BM25
candidates by meaning, which is what hybrid search misses on paraphrased queries.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mmrag.embedding.base import Embedder, l2_normalize
from mmrag.errors import InvalidArgument
from mmrag.reranking.base import Reranker
from mmrag.reranking.models import default_device, shared
from mmrag.types import Hit


class BiEncoderReranker(Reranker):
    """Re-scores candidates by cosine(query, candidate ``embed_text``), in [-1, 1].

    Example::

        rr = BiEncoderReranker()                          # offline MiniLM, loaded once per process
        rr = BiEncoderReranker("intfloat/e5-small-v2", device="cuda", batch_size=128)
        rr = BiEncoderReranker(embedder=index_embedder)   # reuse a model already loaded
        hits = rr.rerank(query, bm25_hits, k=10)
    """

    def __init__(
        self,
        model: str | None = None,
        *,
        embedder: Embedder | None = None,
        device: str | None = None,
        batch_size: int = 64,
    ) -> None:
        from mmrag.embedding.sentence_transformer import DEFAULT_TEXT_MODEL, SentenceTransformerEmbedder

        if embedder is not None and model is not None:
            raise InvalidArgument("give a model name or an embedder, not both")
        if embedder is None:
            name = model or DEFAULT_TEXT_MODEL
            dev = device or default_device()
            embedder = shared(
                "sentence-transformer", name, dev, lambda: SentenceTransformerEmbedder(name, device=dev, batch_size=batch_size)
            )
        self.embedder = embedder
        self.batch_size = batch_size

    def score(self, query: str, hits: Sequence[Hit]) -> np.ndarray:
        if not hits:
            return np.zeros(0, dtype=np.float32)
        q = l2_normalize(self.embedder.embed_queries([query]))[0]
        docs = l2_normalize(self.embedder.embed_documents([h.chunk.embed_text for h in hits]))
        return (docs @ q).astype(np.float32)  # both unit length: the dot product is the cosine
