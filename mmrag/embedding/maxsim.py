"""Late-interaction scoring: MaxSim as a pure, vectorised function.

``score(q, d) = sum_i max_j <q_i, d_j>``: each query token finds its best
matching document token. Documents of different lengths are padded into one
batch with a mask, so scoring many candidates is a few matrix products instead
of a Python loop per document.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mmrag.errors import InvalidArgument


def pad_batch(docs: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """``(docs, mask)``: ``(n, max_len, dim)`` zero-padded vectors and ``(n, max_len)`` validity."""
    if not docs:
        raise InvalidArgument("pad_batch needs at least one document")
    dim = docs[0].shape[-1]
    longest = max(1, max(d.shape[0] for d in docs))  # width 1 keeps max() defined for empty docs
    out = np.zeros((len(docs), longest, dim), dtype=np.float32)
    mask = np.zeros((len(docs), longest), dtype=bool)
    for i, d in enumerate(docs):
        if d.ndim != 2 or d.shape[1] != dim:
            raise InvalidArgument(f"document {i} has shape {d.shape}; expected (n_tokens, {dim})")
        out[i, : len(d)] = d
        mask[i, : len(d)] = True
    return out, mask


def maxsim(query: np.ndarray, docs: Sequence[np.ndarray], batch_size: int = 256) -> np.ndarray:
    """MaxSim of one ``(n_q, dim)`` query against each ``(n_i, dim)`` document: float32 ``(len(docs),)``.

    An empty document scores ``-inf`` (it can match nothing).
    """
    query = np.asarray(query, dtype=np.float32)
    if query.ndim != 2:
        raise InvalidArgument(f"query must be (n_tokens, dim), got shape {query.shape}")
    scores = np.empty(len(docs), dtype=np.float32)
    for start in range(0, len(docs), batch_size):
        part = [np.asarray(d, dtype=np.float32).reshape(-1, query.shape[1]) for d in docs[start : start + batch_size]]
        padded, mask = pad_batch(part)
        sims = np.einsum("qd,ntd->nqt", query, padded)  # (n, n_q, max_len)
        sims = np.where(mask[:, None, :], sims, -np.inf)
        best = sims.max(axis=2)  # (n, n_q)
        scores[start : start + len(part)] = np.where(np.isinf(best).all(axis=1), -np.inf, best.sum(axis=1))
    return scores
