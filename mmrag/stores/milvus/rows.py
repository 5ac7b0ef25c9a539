"""Chunk rows: the field names, chunk <-> row conversion, and how rows are cut
into batches that fit one gRPC message. Pure functions, testable without Milvus."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from mmrag.stores.milvus.filters import literal
from mmrag.types import Chunk, ImageRef, Modality

OUTPUT_FIELDS = ["id", "doc_id", "source", "modality", "page", "slide", "t_start", "t_end", "text", "context", "image", "metadata"]
MAX_VARCHAR = 65535
BATCH_BYTES = 16 * 1024 * 1024  # a quarter of Milvus' default 64 MB gRPC message limit
BATCH_ROWS = 1000
TOKEN_BATCH_ROWS = 8192
QUERY_PAGE = 16384  # Milvus' largest query window
IDS_PER_EXPR = 1000  # ids per `in [...]` expression: keeps expressions far below Milvus' length limit
KEY_BYTES = 64  # the width of the id and doc_id key columns (Milvus counts UTF-8 bytes)
HASHED_PREFIX = "~h:"
# Where a row keeps the caller's id and doc_id when its key columns hold their hashes.
ID_KEY, DOC_ID_KEY = "_mmrag_id", "_mmrag_doc_id"


def row_key(value: str) -> str:
    """The fixed-width key a chunk or source id is stored under: the id itself when
    it fits the key column, else ``~h:`` + a SHA-256 of it (a file path used as an
    id easily passes 64 bytes). Keys of existing rows never change: every id that
    fitted before is stored as it is."""
    if len(value.encode("utf-8")) <= KEY_BYTES and not value.startswith(HASHED_PREFIX):
        return value
    digest = hashlib.sha256(value.encode("utf-8")).digest()
    return HASHED_PREFIX + base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def is_hashed(key: str) -> bool:
    return key.startswith(HASHED_PREFIX)


def dense_field(space: str) -> str:
    return f"dense_{space}"


def fde_field(space: str) -> str:
    """The MUVERA encoding of a multi-vector space's tokens: its late search's first stage."""
    return f"fde_{space}"


def token_collection(collection: str, space: str) -> str:
    """The companion collection holding the token vectors of a multi-vector space."""
    return f"{collection}__tok_{space}"


def _clip(text: str, limit: int = MAX_VARCHAR) -> str:
    """``text`` cut to at most ``limit`` UTF-8 bytes (Milvus counts bytes)."""
    data = text.encode("utf-8")
    return text if len(data) <= limit else data[:limit].decode("utf-8", errors="ignore")


def chunk_to_row(chunk: Chunk, vectors: Mapping[str, np.ndarray]) -> dict[str, Any]:
    """A chunk row; ``vectors`` holds one ``(dim,)`` vector per space (pooled for multi-vector spaces)."""
    metadata = dict(chunk.metadata)
    key, doc_key = row_key(chunk.id), row_key(chunk.doc_id)
    if key != chunk.id:
        metadata[ID_KEY] = chunk.id
    if doc_key != chunk.doc_id:
        metadata[DOC_ID_KEY] = chunk.doc_id
    row: dict[str, Any] = {
        "id": key,
        "doc_id": doc_key,
        "source": _clip(chunk.source, 4096),
        "modality": chunk.modality.value,
        "page": chunk.page,
        "slide": chunk.slide,
        "t_start": chunk.start,
        "t_end": chunk.end,
        "text": _clip(chunk.text),
        "context": _clip(chunk.context, 4096),
        "content": _clip(chunk.embed_text),
        "image": chunk.image.to_dict() if chunk.image else None,
        "metadata": metadata,
    }
    for space, vec in vectors.items():
        row[dense_field(space)] = np.asarray(vec, dtype=np.float32).tolist()
    return row


def row_to_chunk(row: Mapping[str, Any]) -> Chunk:
    """The chunk a row holds, under the caller's ids (not the hashed keys)."""
    metadata = dict(row.get("metadata") or {})
    chunk_id, doc_id = metadata.pop(ID_KEY, row["id"]), metadata.pop(DOC_ID_KEY, row["doc_id"])
    return Chunk(
        id=chunk_id,
        doc_id=doc_id,
        source=row["source"],
        modality=Modality(row["modality"]),
        text=row["text"],
        context=row.get("context") or "",
        image=ImageRef.from_dict(row["image"]) if row.get("image") else None,
        page=row.get("page"),
        slide=row.get("slide"),
        start=row.get("t_start"),
        end=row.get("t_end"),
        metadata=metadata,
    )


def row_bytes(row: Mapping[str, Any]) -> int:
    """A generous estimate of a row's size on the wire (strings as UTF-8, floats as 4 bytes)."""
    size = 64
    for value in row.values():
        if isinstance(value, str):
            size += len(value.encode("utf-8"))
        elif isinstance(value, list):
            size += 4 * len(value) if not value or isinstance(value[0], float) else len(json.dumps(value))
        elif isinstance(value, dict):
            size += len(json.dumps(value))
        else:
            size += 8
    return size


def plan_batches(sizes: Sequence[int], max_bytes: int = BATCH_BYTES, max_rows: int = BATCH_ROWS) -> list[range]:
    """Consecutive index ranges whose summed ``sizes`` stay within ``max_bytes``
    and ``max_rows`` (a single row larger than ``max_bytes`` is a batch of its own)."""
    batches: list[range] = []
    start, used = 0, 0
    for i, size in enumerate(sizes):
        if i > start and (used + size > max_bytes or i - start >= max_rows):
            batches.append(range(start, i))
            start, used = i, 0
        used += size
    if start < len(sizes):
        batches.append(range(start, len(sizes)))
    return batches


def ids_expr(field: str, ids: Sequence[str]) -> str:
    """``field in [...]`` over the keys of the caller's ``ids``."""
    return keys_expr(field, [row_key(i) for i in ids])


def keys_expr(field: str, keys: Sequence[str]) -> str:
    """``field in [...]`` over stored keys."""
    return f"{field} in [{', '.join(literal(k, field) for k in keys)}]"

