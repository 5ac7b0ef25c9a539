"""Late interaction on Milvus: the native array-of-structs layout of a server
>= 2.6.4, and the companion token rows used everywhere else (Milvus Lite has no
array-of-vector fields).

Companion layout: the token vectors of a chunk live one per row (or
``tokens_per_row`` packed into one row) in ``<collection>__tok_<space>``,
tagged with the write's generation so a half-written replacement is never read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from mmrag.embedding.base import EmbedderSpec
from mmrag.embedding.muvera import Muvera, MuveraParams
from mmrag.errors import InvalidArgument, StoreError
from mmrag.stores.milvus.rows import OUTPUT_FIELDS, fde_field, row_key, row_to_chunk
from mmrag.types import Chunk, Hit

try:
    import pymilvus
except ImportError:  # pragma: no cover - exercised by the no-extras test run
    pymilvus = None

NATIVE_LATE_MIN_VERSION = (2, 6, 4)
MAX_NATIVE_TOKENS = 4096  # an array-of-structs field's largest capacity


def server_version(text: str) -> tuple[int, int, int] | None:
    """``(2, 6, 4)`` from ``"v2.6.4"`` or ``"2.6.4-rc1"``; ``None`` for Milvus Lite or an unreadable string."""
    if "lite" in text.lower():
        return None
    m = re.search(r"(\d+)\.(\d+)\.(\d+)", text)
    return (int(m[1]), int(m[2]), int(m[3])) if m else None


def late_layout(multivector: bool, lite: bool, version_text: str, has_struct: bool) -> str:
    """``"native"`` (MAX_SIM over an array-of-structs field) for multi-vector spaces on a
    Milvus server >= 2.6.4 whose pymilvus can declare arrays of structs, else
    ``"companion"`` (token rows beside the collection, MUVERA first stage)."""
    if not multivector or lite or not has_struct:
        return "companion"
    version = server_version(version_text)
    return "native" if version is not None and version >= NATIVE_LATE_MIN_VERSION else "companion"


# The MUVERA encoding every multi-vector space gets in the companion layout, as
# benchmarks/late_first_stage.py chose it: at 500 ColPali-sized pages, top-100
# candidates by it held 99.7% of exhaustive MaxSim's top 10 (96% at 10,000), in
# 2,048 floats (8 KB) per chunk.
DEFAULT_MUVERA: dict[str, Any] = {"repetitions": 20, "simhash_bits": 5, "projection_dim": 16, "final_dim": 2048, "seed": 0}


def muvera_params(space: str, spec: EmbedderSpec, options: Mapping[str, Any]) -> MuveraParams:
    """The encoding for one space: ``options`` are MuveraParams fields other than ``dim``."""
    if "dim" in options:
        raise StoreError("muvera options take no 'dim': each space's encoding uses its embedder's dim")
    try:
        return MuveraParams(dim=spec.dim, **{**DEFAULT_MUVERA, **options})
    except (TypeError, InvalidArgument) as exc:
        raise StoreError(f"invalid muvera options {dict(options)} for space '{space}': {exc}") from exc


def read_muvera(
    collection: str, raw: str | None, spaces: Mapping[str, EmbedderSpec], field_dims: Mapping[str, int]
) -> dict[str, Muvera]:
    """The encoders recorded on a collection (``raw``: its property), checked against its
    spaces and its FDE fields, so a query is encoded exactly as the documents were."""
    if raw is None:
        return {}
    out = {}
    try:
        recorded = json.loads(raw)
        for space, data in recorded.items():
            params = MuveraParams.from_json(data)
            spec = spaces.get(space)
            if spec is None or not spec.multivector or params.dim != spec.dim:
                raise StoreError(f"MUVERA params for '{space}' do not fit its space ({spec.describe() if spec else 'none'})")
            if field_dims.get(fde_field(space)) != params.output_dim:
                raise StoreError(f"field {fde_field(space)} does not hold {params.output_dim}-d MUVERA encodings")
            out[space] = Muvera(params)
    except (ValueError, TypeError, AttributeError, InvalidArgument, StoreError) as exc:
        raise StoreError(
            f"collection '{collection}' records unreadable MUVERA params ({exc}); "
            "delete it and ingest again (--collection NAME for a new one)"
        ) from exc
    return out


class NativeLate:
    """Late interaction on a Milvus server >= 2.6.4: token vectors in an
    array-of-structs field searched with ``MAX_SIM_IP`` (exact MaxSim is the
    sum of best inner products). Chosen only when the server reports such a
    version; not exercised by the test suite, which runs on Milvus Lite."""

    @staticmethod
    def field(space: str) -> str:
        return f"tok_{space}"

    @staticmethod
    def add_field(client: Any, schema: Any, index: Any, space: str, dim: int) -> None:
        struct = client.create_struct_field_schema()
        struct.add_field("vec", pymilvus.DataType.FLOAT_VECTOR, dim=dim)
        schema.add_field(
            NativeLate.field(space), pymilvus.DataType.ARRAY, element_type=pymilvus.DataType.STRUCT,
            struct_schema=struct, max_capacity=MAX_NATIVE_TOKENS,
        )
        index.add_index(f"{NativeLate.field(space)}[vec]", index_type="HNSW", metric_type="MAX_SIM_IP",
                        params={"M": 16, "efConstruction": 200})

    @staticmethod
    def row_value(space: str, tokens: np.ndarray) -> dict[str, Any]:
        tokens = np.asarray(tokens, dtype=np.float32)
        if len(tokens) > MAX_NATIVE_TOKENS:
            raise StoreError(f"space '{space}': {len(tokens)} token vectors exceed Milvus' {MAX_NATIVE_TOKENS} per chunk")
        return {NativeLate.field(space): [{"vec": v} for v in tokens.tolist()]}

    @staticmethod
    def search(client: Any, collection: str, queries: Mapping[str, np.ndarray], expr: str, k: int) -> list[Hit]:
        from pymilvus.client.embedding_list import EmbeddingList

        if len(queries) != 1:
            raise StoreError("native late interaction searches one multi-vector space at a time")
        (space, query), = queries.items()
        res = client.search(
            collection, data=[EmbeddingList(query)], anns_field=f"{NativeLate.field(space)}[vec]", limit=k,
            filter=expr, output_fields=OUTPUT_FIELDS, search_params={"metric_type": "MAX_SIM_IP"},
        )[0]
        return [Hit(row_to_chunk(r["entity"] | {"id": r["id"]}), float(r["distance"]), {"maxsim": float(r["distance"])}) for r in res]


def token_rows(chunks: Sequence[Chunk], tokens: Sequence[Any], gen: str, per_row: int) -> list[dict[str, Any]]:
    """The companion rows of ``chunks``: ``per_row`` token vectors per row, zero-padded, ``n`` counting the used slots."""
    rows = []
    for chunk, mat in zip(chunks, tokens):
        mat = np.asarray(mat, dtype=np.float32)
        for start in range(0, len(mat), per_row):
            block = mat[start : start + per_row]
            flat = np.zeros(per_row * mat.shape[1], dtype=np.float32)
            flat[: block.size] = block.ravel()
            rows.append({"chunk_id": row_key(chunk.id), "doc_id": row_key(chunk.doc_id), "gen": gen, "n": len(block), "vec": flat.tolist()})
    return rows


def tokens_by_chunk(rows: Sequence[Mapping[str, Any]], gens: Mapping[str, str], dim: int) -> dict[str, np.ndarray]:
    """Each chunk's ``(n, dim)`` token matrix (by row key) from its companion rows,
    only rows of its current generation (``gens`` is by row key too)."""
    found: dict[str, list[np.ndarray]] = {}
    for row in rows:
        if row["gen"] == gens[row["chunk_id"]]:
            block = np.asarray(row["vec"], dtype=np.float32).reshape(-1, dim)[: row["n"]]
            found.setdefault(row["chunk_id"], []).append(block)
    return {cid: np.concatenate(blocks) for cid, blocks in found.items()}
