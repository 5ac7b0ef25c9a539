"""Late-interaction reranking: MaxSim of query token vectors against candidate
token (ColBERT) or patch (ColPali) vectors."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from mmrag.embedding.base import MultiVectorEmbedder
from mmrag.embedding.images import ImageLoader
from mmrag.embedding.maxsim import maxsim
from mmrag.reranking.base import Reranker
from mmrag.reranking.calibration import Calibration, calibrate
from mmrag.reranking.images import is_visual
from mmrag.types import Hit, Modality

VectorLookup = Callable[[Sequence[str]], Mapping[str, np.ndarray]]


class MaxSimReranker(Reranker):
    """Scores candidates by MaxSim with a multi-vector embedder.

    Example::

        rr = MaxSimReranker(colbert)                            # embeds candidates on the fly
        rr = MaxSimReranker(colpali, vectors=store.token_vectors)  # stored page vectors, no re-embedding
        hits = rr.rerank("revenue by region chart", hits, k=5)

    ``vectors`` maps chunk ids to their stored ``(n_tokens, dim)`` arrays
    (a function taking ids, such as a store's lookup); candidates it does not
    return are embedded now: by pixels when the embedder reads images and the
    candidate is an image/page, else by ``embed_text``. Scores are raw MaxSim
    (sum over query tokens of the best cosine, so they grow with query length);
    pass ``calibration="zscore"`` to standardise per modality when text and
    page candidates are mixed.
    """

    def __init__(
        self,
        embedder: MultiVectorEmbedder,
        *,
        vectors: VectorLookup | None = None,
        image_loader: ImageLoader | None = None,
        calibration: str | Calibration = Calibration.NONE,
    ) -> None:
        self.embedder = embedder
        self.vectors = vectors
        self.image_loader = image_loader  # None: the embedder's own resolver (page renders, keyframes, files)
        self.calibration = Calibration.parse(calibration)

    def document_vectors(self, hits: Sequence[Hit]) -> list[np.ndarray]:
        """Each candidate's token/patch vectors: stored ones first, the rest embedded now."""
        stored = dict(self.vectors([h.chunk.id for h in hits])) if self.vectors else {}
        out: list[np.ndarray | None] = [stored.get(h.chunk.id) for h in hits]
        reads_images = Modality.IMAGE in self.embedder.modalities
        missing = [i for i, v in enumerate(out) if v is None]
        visual = [i for i in missing if reads_images and is_visual(hits[i].chunk)]
        text = [i for i in missing if i not in set(visual)]
        if text:
            for i, v in zip(text, self.embedder.embed_documents([hits[i].chunk.embed_text for i in text])):
                out[i] = v
        if visual:
            refs = [hits[i].chunk.image for i in visual]
            for i, v in zip(visual, self.embedder.embed_images(refs, image_loader=self.image_loader)):
                out[i] = v
        return [np.asarray(v, dtype=np.float32) for v in out]

    def score(self, query: str, hits: Sequence[Hit]) -> np.ndarray:
        if not hits:
            return np.zeros(0, dtype=np.float32)
        q = self.embedder.embed_queries([query])[0]
        raw = maxsim(q, self.document_vectors(hits))
        groups = ["image" if is_visual(h.chunk) else "text" for h in hits]
        return calibrate(raw, groups, self.calibration)
