"""Late interaction shared by the stores: pooling token vectors for the first
stage and reranking candidates by exact MaxSim, as pure functions.

The stores keep one pooled vector per chunk (the mean of its token vectors,
normalised) in the searchable dense field, so any ANN index finds candidates;
the token vectors themselves are only read for the few candidates that MaxSim
then orders exactly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from mmrag.embedding.base import EmbedderSpec, l2_normalize
from mmrag.embedding.maxsim import maxsim
from mmrag.errors import StoreError
from mmrag.types import Hit


def pool_tokens(tokens: np.ndarray) -> np.ndarray:
    """One ``(dim,)`` float32 unit vector for an ``(n, dim)`` token matrix: the normalised mean."""
    tokens = np.asarray(tokens, dtype=np.float32)
    if tokens.ndim != 2 or tokens.shape[0] == 0:
        raise StoreError(f"token vectors must be a non-empty (n_tokens, dim) array, got shape {tokens.shape}")
    return l2_normalize(tokens.mean(axis=0))


def dense_query(space: str, spec: EmbedderSpec, vector: np.ndarray) -> np.ndarray:
    """The ``(dim,)`` float32 vector to search a space's dense field with: a
    multi-vector query is pooled the same way its documents were."""
    vector = np.asarray(vector, dtype=np.float32)
    want = 2 if spec.multivector else 1
    if vector.ndim != want or vector.shape[-1] != spec.dim:
        shape = f"(n_tokens, {spec.dim})" if spec.multivector else f"({spec.dim},)"
        raise StoreError(f"query vector for space '{space}' has shape {vector.shape}; expected {shape}")
    return pool_tokens(vector) if spec.multivector else vector


def check_write(collection: str, stored: Mapping[str, EmbedderSpec], vectors: Mapping[str, object], n_chunks: int) -> None:
    """Raise a ``StoreError`` unless the collection exists and ``vectors`` give every stored space ``n_chunks`` fitting rows."""
    if not stored:
        raise StoreError(f"collection '{collection}' does not exist; call ensure_collection first")
    if set(vectors) != set(stored):
        raise StoreError(f"vectors are for spaces {sorted(vectors)}, the collection has {sorted(stored)}")
    for space, vecs in vectors.items():
        check_space_vectors(space, stored[space], vecs, n_chunks)


def check_space_vectors(space: str, spec: EmbedderSpec, vectors: object, n_chunks: int) -> None:
    """Raise a ``StoreError`` naming the space and row unless ``vectors`` fit ``spec`` for ``n_chunks`` chunks."""
    if len(vectors) != n_chunks:  # type: ignore[arg-type]
        raise StoreError(f"space '{space}': {len(vectors)} vectors for {n_chunks} chunks")  # type: ignore[arg-type]
    if spec.multivector:
        for i, tokens in enumerate(vectors):  # type: ignore[attr-defined]
            shape = np.shape(tokens)
            if len(shape) != 2 or shape[0] == 0 or shape[1] != spec.dim:
                raise StoreError(
                    f"space '{space}' is multi-vector: chunk {i} needs an (n_tokens>0, {spec.dim}) array, got {shape}"
                )
    else:
        shape = np.shape(vectors)
        if len(shape) != 2 or shape[1] != spec.dim:
            raise StoreError(f"space '{space}': vectors must be ({n_chunks}, {spec.dim}), got {shape}")


def rerank_maxsim(
    candidates: Sequence[Hit], queries: Mapping[str, np.ndarray], tokens: Mapping[str, Mapping[str, np.ndarray]], k: int
) -> list[Hit]:
    """New hits for ``candidates`` ordered by MaxSim, best ``k`` first.

    ``queries`` maps each multi-vector space to its ``(n_q, dim)`` query;
    ``tokens[space][chunk_id]`` holds a candidate's stored token vectors. With
    several multi-vector spaces the MaxSim scores add up. The first-stage score
    is kept as ``scores["first_stage"]``.
    """
    if not candidates:
        return []
    total = np.zeros(len(candidates), dtype=np.float64)
    per_space: dict[str, np.ndarray] = {}
    for space, query in queries.items():
        stored = tokens.get(space, {})
        docs = [stored.get(h.chunk.id, np.zeros((0, query.shape[1]), dtype=np.float32)) for h in candidates]
        per_space[space] = maxsim(query, docs)
        total += per_space[space]
    order = sorted(range(len(candidates)), key=lambda i: (-total[i], i))[:k]
    out = []
    for i in order:
        hit = candidates[i]
        scores = {"first_stage": hit.score, "maxsim": float(total[i])}
        if len(queries) > 1:
            scores |= {f"maxsim_{space}": float(s[i]) for space, s in per_space.items()}
        out.append(Hit(hit.chunk, float(total[i]), scores))
    return out
