"""Reranking a mixed list of text and image/page candidates with one image-text model."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mmrag.embedding.base import Embedder, l2_normalize
from mmrag.embedding.images import ImageLoader
from mmrag.errors import MmragError
from mmrag.reranking.base import Reranker
from mmrag.reranking.calibration import Calibration, calibrate
from mmrag.reranking.images import is_visual
from mmrag.types import Hit, Modality


class MultimodalReranker(Reranker):
    """Scores text candidates by their text and image/page candidates by their pixels,
    with a pooled image-text embedder (CLIP/SigLIP style), then calibrates per modality.

    Example::

        rr = MultimodalReranker(clip_embedder)  # files, PDF page renders, slide pictures, keyframes
        rr = MultimodalReranker(clip_embedder, image_loader=my_loader)  # ImageRef -> PIL.Image of your own
        hits = rr.rerank("wiring diagram of the pump", mixed_hits, k=10)

    The raw score is cosine(query, candidate); ``scores["rerank"]`` holds the
    calibrated score (see ``mmrag.reranking.calibration``: per-modality z-score
    over the candidate set by default) so text and images rank in one list.
    """

    def __init__(
        self,
        embedder: Embedder,
        *,
        image_loader: ImageLoader | None = None,
        calibration: str | Calibration = Calibration.ZSCORE,
    ) -> None:
        if Modality.IMAGE not in embedder.modalities:
            raise MmragError(f"{embedder.model_name} embeds text only; the multimodal reranker needs an image-text model")
        self.embedder = embedder
        self.image_loader = image_loader  # None: the embedder's own resolver (page renders, keyframes, files)
        self.calibration = Calibration.parse(calibration)

    def raw_scores(self, query: str, hits: Sequence[Hit]) -> np.ndarray:
        """Uncalibrated cosines, aligned with ``hits``."""
        out = np.zeros(len(hits), dtype=np.float32)
        if not hits:
            return out
        q = l2_normalize(self.embedder.embed_queries([query]))[0]
        visual = [i for i, h in enumerate(hits) if is_visual(h.chunk)]
        text = [i for i, h in enumerate(hits) if not is_visual(h.chunk)]
        if text:
            out[text] = l2_normalize(self.embedder.embed_documents([hits[i].chunk.embed_text for i in text])) @ q
        if visual:
            refs = [hits[i].chunk.image for i in visual]
            out[visual] = l2_normalize(self.embedder.embed_images(refs, image_loader=self.image_loader)) @ q
        return out

    def score(self, query: str, hits: Sequence[Hit]) -> np.ndarray:
        groups = ["image" if is_visual(h.chunk) else "text" for h in hits]
        return calibrate(self.raw_scores(query, hits), groups, self.calibration)
