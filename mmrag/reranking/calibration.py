"""Making scores from different modalities comparable before they are ranked together.

An image-text model's cosine for (query, image) sits on another scale than for
(query, text): CLIP-like models give text-text pairs far higher cosines than
text-image pairs, so raw scores would put every text chunk above every image.
Here each modality's scores are standardised over the candidate set (z-score:
how far above its own modality's average a candidate is), which needs no
held-out data and no per-model constants.

Limitation: the best of a group always ranks high relative to its group, so if
every image candidate is irrelevant the best image still gets a fair z-score. A
group of one candidate gets z = 0 (average), the neutral value.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mmrag.errors import InvalidArgument
from mmrag.types import ChoiceEnum


class Calibration(ChoiceEnum):
    """``zscore`` (default): per-modality standardisation; ``minmax``: per-modality
    scaling to [0, 1]; ``none``: raw scores (one model, one modality)."""

    __noun__ = "calibration"

    ZSCORE = "zscore"
    MINMAX = "minmax"
    NONE = "none"


def calibrate(scores: np.ndarray, groups: Sequence[str], method: str | Calibration = Calibration.ZSCORE) -> np.ndarray:
    """``scores`` rescaled within each group (e.g. modality) so groups compare: float32, same order."""
    method = Calibration.parse(method)
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    if len(groups) != len(scores):
        raise InvalidArgument(f"{len(groups)} groups for {len(scores)} scores")
    if method is Calibration.NONE:
        return scores.astype(np.float32)
    out = np.full_like(scores, -np.inf)  # a -inf score (an empty document under MaxSim) stays last
    labels = np.asarray(groups, dtype=object)
    finite = np.isfinite(scores)
    for group in set(groups):
        idx = np.flatnonzero((labels == group) & finite)
        if not len(idx):
            continue
        part = scores[idx]
        if method is Calibration.ZSCORE:
            std = part.std()
            out[idx] = (part - part.mean()) / std if std > 0 else 0.0
        else:
            lo, hi = part.min(), part.max()
            out[idx] = (part - lo) / (hi - lo) if hi > lo else 1.0
    return out.astype(np.float32)
