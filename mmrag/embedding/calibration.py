"""Modality-gap calibration for image-text spaces (optional, off by default).

CLIP-style models put text and images in separate cones of the shared space
(Liang et al., 2022, "Mind the Gap"): a text query scores every text chunk above
every image chunk, so a mixed ranked list is all text first. Two remedies, both
fitted on the ingested collection and serialisable to store with it:

* ``center``: subtract each modality's mean vector (text vectors and text
  queries the text mean, images the image mean) and re-normalise, at ingest
  and at query time, so the cones overlap;
* ``calibrate_scores``: z-normalise a hit's score with the score statistics of
  its modality, so one list can mix text and image hits fairly.

Measured in ``benchmarks/modality_gap.py``; docs/embedders.md says when to use it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from mmrag.embedding.base import l2_normalize
from mmrag.errors import InvalidArgument
from mmrag.types import Modality


def modality_group(modality: Modality | str) -> str:
    """``text`` or ``image``: page renders and pictures share the image tower, so one mean."""
    return "text" if Modality.parse(modality) is Modality.TEXT else "image"


@dataclass(frozen=True)
class ModalityCalibration:
    """Per-modality mean vectors and score statistics of one embedding space.

    Example::

        cal = ModalityCalibration.fit(vectors, [c.modality for c in chunks])
        stored = cal.center(vectors, [c.modality for c in chunks])   # at ingest
        q = cal.center(query_vec[None], [Modality.TEXT])[0]         # at query time
        fair = cal.calibrate_scores(scores, [h.chunk.modality for h in hits])
    """

    means: Mapping[str, np.ndarray]
    score_stats: Mapping[str, tuple[float, float]]

    @classmethod
    def fit(cls, vectors: np.ndarray, modalities: Sequence[Modality | str], probes: int = 256, seed: int = 0) -> ModalityCalibration:
        """Fit on a collection's (un-centred) vectors. Score statistics use up to ``probes`` text vectors as
        stand-in queries (after centring), scored against every vector of each modality."""
        vectors = np.asarray(vectors, dtype=np.float32)
        groups = np.array([modality_group(m) for m in modalities])
        if len(groups) != len(vectors):
            raise InvalidArgument(f"{len(vectors)} vectors but {len(groups)} modalities")
        present = [g for g in ("text", "image") if (groups == g).any()]
        if len(present) < 2:
            raise InvalidArgument("calibration needs both text and image vectors in the collection")
        means = {g: vectors[groups == g].mean(axis=0) for g in present}
        centred = l2_normalize(vectors - np.stack([means[g] for g in groups]))
        text_rows = np.flatnonzero(groups == "text")
        rng = np.random.default_rng(seed)
        picked = rng.choice(text_rows, size=min(probes, len(text_rows)), replace=False)
        stats = {}
        for g in present:
            rows = np.flatnonzero(groups == g)
            scores = centred[picked] @ centred[rows].T
            scores[picked[:, None] == rows[None, :]] = np.nan  # a probe scoring itself is not a query's score
            stats[g] = (float(np.nanmean(scores)), float(np.nanstd(scores)) or 1.0)
        return cls(means=means, score_stats=stats)

    def center(self, vectors: np.ndarray, modalities: Sequence[Modality | str]) -> np.ndarray:
        """``vectors`` minus their modality's mean, re-normalised (float32, same shape)."""
        vectors = np.asarray(vectors, dtype=np.float32)
        shift = np.stack([self.means[modality_group(m)] for m in modalities]) if len(vectors) else 0.0
        return l2_normalize(vectors - shift)

    def calibrate_scores(self, scores: Sequence[float], modalities: Sequence[Modality | str]) -> np.ndarray:
        """Scores as z-values of their modality's score distribution: comparable across modalities."""
        stats = np.array([self.score_stats[modality_group(m)] for m in modalities], dtype=np.float32).reshape(-1, 2)
        return ((np.asarray(scores, dtype=np.float32) - stats[:, 0]) / stats[:, 1]).astype(np.float32)

    def to_json(self) -> str:
        """For storing with the collection (e.g. a collection property)."""
        return json.dumps(
            {"means": {g: v.tolist() for g, v in self.means.items()}, "score_stats": dict(self.score_stats)}
        )

    @classmethod
    def from_json(cls, text: str) -> ModalityCalibration:
        data = json.loads(text)
        means = {g: np.asarray(v, dtype=np.float32) for g, v in data["means"].items()}
        return cls(means=means, score_stats={g: (float(a), float(b)) for g, (a, b) in data["score_stats"].items()})
