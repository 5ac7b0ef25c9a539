"""MUVERA fixed-dimensional encodings: one vector per multi-vector item whose
inner product approximates MaxSim (Dhulipala et al., "MUVERA: Multi-Vector
Retrieval via Fixed Dimensional Encodings", NeurIPS 2024).

Why: a store with an ANN index over single vectors (every store we support)
can then find MaxSim candidates directly, and exact MaxSim only runs on those
candidates. A plain mean of the token vectors (``pool_tokens``) loses which
query token matched which document token; the encoding keeps that by
bucketing tokens into SimHash partitions first.

Per repetition ``r``:

1. SimHash: ``k`` Gaussian hyperplanes split the space into ``2**k``
   partitions; a token falls into the partition named by its sign bits.
2. Aggregation per partition: queries **sum** their tokens (so the encoding's
   inner product adds up every query token's match), documents take the
   **mean** (so a long document is not favoured). A document partition that
   got no token is filled with the token whose sign bits are nearest in
   Hamming distance, so a query token landing there still finds its likely
   best match.
3. An inner random projection (``±1/sqrt(d_proj)`` entries) shrinks each
   partition block from ``dim`` to ``d_proj`` values.

The ``R`` repetitions are concatenated (``R * 2**k * d_proj`` values) and an
optional final Count-Sketch projection maps them to ``final_dim``. Everything
is drawn from one seed, so the same parameters give the same encoding in every
process (documents encoded at ingest and queries at search time must agree).
Hand-written because no maintained Python package ships it (Weaviate and
Milvus implement it server side); it is a few numpy operations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mmrag.errors import InvalidArgument

MAX_SIMHASH_BITS = 10  # 1024 partitions; more leaves almost every partition empty


@dataclass(frozen=True)
class MuveraParams:
    """The encoding's parameters; stored with a collection so queries use the same."""

    dim: int
    repetitions: int = 20
    simhash_bits: int = 5
    projection_dim: int | None = 16  # None: no inner projection (blocks keep ``dim`` values)
    final_dim: int | None = None  # None: no final projection
    fill_empty: bool = True
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("dim", "repetitions"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise InvalidArgument(f"MUVERA {name} must be a positive integer, got {getattr(self, name)!r}")
        if not 0 <= self.simhash_bits <= MAX_SIMHASH_BITS:
            raise InvalidArgument(f"MUVERA simhash_bits must be in 0..{MAX_SIMHASH_BITS}, got {self.simhash_bits}")
        for name in ("projection_dim", "final_dim"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 1):
                raise InvalidArgument(f"MUVERA {name} must be a positive integer or None, got {value!r}")

    @property
    def block_dim(self) -> int:
        return self.projection_dim or self.dim

    @property
    def raw_dim(self) -> int:
        return self.repetitions * (2**self.simhash_bits) * self.block_dim

    @property
    def output_dim(self) -> int:
        return self.final_dim or self.raw_dim

    def to_json(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    @classmethod
    def from_json(cls, data: dict) -> MuveraParams:
        return cls(**data)


class Muvera:
    """Fixed-dimensional encodings of ``(n_tokens, dim)`` matrices.

    Example::

        fde = Muvera(MuveraParams(dim=128, final_dim=2048))
        docs = fde.encode_documents(page_token_matrices)   # (n_pages, 2048)
        q = fde.encode_query(query_tokens)                  # (2048,)
        candidates = np.argsort(-(docs @ q))[:100]          # then exact MaxSim on these
    """

    def __init__(self, params: MuveraParams) -> None:
        self.params = params
        p = params
        rng = np.random.default_rng(p.seed)
        self._hyperplanes = rng.standard_normal((p.repetitions, p.dim, p.simhash_bits)).astype(np.float32)
        if p.projection_dim:
            signs = rng.integers(0, 2, size=(p.repetitions, p.dim, p.projection_dim)) * 2 - 1
            self._projection = (signs / np.sqrt(p.projection_dim)).astype(np.float32)
        else:
            self._projection = None
        if p.final_dim:
            self._sketch_bucket = rng.integers(0, p.final_dim, size=p.raw_dim)
            self._sketch_sign = (rng.integers(0, 2, size=p.raw_dim) * 2 - 1).astype(np.float32)
        bits = np.arange(p.simhash_bits)
        codes = np.arange(2**p.simhash_bits)
        # Hamming distance between every pair of partitions, for filling empty ones.
        self._hamming = ((codes[:, None] ^ codes[None, :])[..., None] >> bits & 1).sum(axis=2)

    @property
    def output_dim(self) -> int:
        return self.params.output_dim

    def encode_query(self, tokens: np.ndarray) -> np.ndarray:
        """``(output_dim,)`` float32: per-partition sums."""
        return self._encode(self._check(tokens), is_query=True)

    def encode_document(self, tokens: np.ndarray) -> np.ndarray:
        """``(output_dim,)`` float32: per-partition means, empty partitions filled."""
        return self._encode(self._check(tokens), is_query=False)

    def encode_documents(self, docs: Sequence[np.ndarray]) -> np.ndarray:
        """``(len(docs), output_dim)`` float32."""
        out = np.empty((len(docs), self.output_dim), dtype=np.float32)
        for i, d in enumerate(docs):
            out[i] = self.encode_document(d)
        return out

    def _check(self, tokens: np.ndarray) -> np.ndarray:
        tokens = np.asarray(tokens, dtype=np.float32)
        if tokens.ndim != 2 or tokens.shape[0] == 0 or tokens.shape[1] != self.params.dim:
            raise InvalidArgument(f"MUVERA encodes (n_tokens>0, {self.params.dim}) arrays, got shape {tokens.shape}")
        return tokens

    def _encode(self, tokens: np.ndarray, *, is_query: bool) -> np.ndarray:
        p = self.params
        n_part = 2**p.simhash_bits
        weights = 1 << np.arange(p.simhash_bits)
        blocks = []
        for r in range(p.repetitions):
            part = ((tokens @ self._hyperplanes[r]) > 0).astype(np.int64) @ weights  # (n,)
            projected = tokens @ self._projection[r] if self._projection is not None else tokens
            onehot = np.zeros((n_part, len(part)), dtype=np.float32)
            onehot[part, np.arange(len(part))] = 1.0
            sums = onehot @ projected  # (n_part, block_dim)
            if not is_query:
                counts = np.bincount(part, minlength=n_part)
                filled = counts > 0
                sums[filled] /= counts[filled, None]
                if p.fill_empty and not filled.all() and p.simhash_bits:
                    # Nearest token by Hamming distance between its partition and the empty one.
                    empty = np.flatnonzero(~filled)
                    sums[empty] = projected[np.argmin(self._hamming[empty][:, part], axis=1)]
            blocks.append(sums.ravel())
        raw = np.concatenate(blocks)
        if not p.final_dim:
            return raw
        return np.bincount(self._sketch_bucket, weights=raw * self._sketch_sign, minlength=p.final_dim).astype(np.float32)
