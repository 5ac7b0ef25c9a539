"""Chunks as Weaviate objects and back: deterministic uuids, properties
(each scalar metadata key also as a filterable ``meta_<key>`` property), the
named vectors of a chunk, and search results as hits."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from mmrag.embedding.base import EmbedderSpec
from mmrag.errors import StoreError
from mmrag.stores.late import pool_tokens
from mmrag.stores.weaviate.schema import pooled_name
from mmrag.types import Chunk, Hit, ImageRef, Modality

try:
    from weaviate.classes.config import DataType, Property, Tokenization
except ImportError:  # pragma: no cover - exercised by the no-extras test run
    pass

NAMESPACE = uuid.UUID("6b0f7d52-3f0e-5d6b-9a57-6d6d72616701")  # fixed: the same chunk id gives the same uuid forever
RETURN_PROPS = ["chunk_id", "doc_id", "source", "modality", "page", "slide", "t_start", "t_end", "text", "context",
                "image", "metadata"]
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


def meta_property(key: str) -> str:
    return f"meta_{key}"


def meta_types(chunks: Sequence[Chunk]) -> dict[str, Any]:
    """The filterable property type of each scalar metadata key in ``chunks``
    (nested values stay only in the ``metadata`` JSON); mixed types are refused."""
    types: dict[str, Any] = {}
    for chunk in chunks:
        for key, value in chunk.metadata.items():
            kind = _meta_type(value)
            if kind is None or not _KEY.match(key):
                continue
            have = types.setdefault(key, kind)
            if have != kind:
                if {have, kind} == {DataType.INT, DataType.NUMBER}:
                    types[key] = DataType.NUMBER
                else:
                    raise StoreError(f"metadata '{key}' mixes {have.value} and {kind.value} values in {chunk.source}")
    return types


def _meta_type(value: Any) -> Any:
    if isinstance(value, bool):
        return DataType.BOOL
    if isinstance(value, int):
        return DataType.INT
    if isinstance(value, float):
        return DataType.NUMBER
    if isinstance(value, str):
        return DataType.TEXT
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, str) for v in value):
        return DataType.TEXT_ARRAY
    return None


def meta_property_def(key: str, kind: Any) -> Any:
    tokenization = Tokenization.FIELD if kind in (DataType.TEXT, DataType.TEXT_ARRAY) else None
    return Property(name=meta_property(key), data_type=kind, tokenization=tokenization, index_searchable=False)


def object_uuid(chunk_id: str) -> uuid.UUID:
    """Deterministic: the same chunk id is the same object, so a re-write replaces it."""
    return uuid.uuid5(NAMESPACE, chunk_id)


def chunk_properties(chunk: Chunk) -> dict[str, Any]:
    props: dict[str, Any] = {
        "chunk_id": chunk.id,
        "doc_id": chunk.doc_id,
        "source": chunk.source,
        "modality": chunk.modality.value,
        "page": chunk.page,
        "slide": chunk.slide,
        "t_start": chunk.start,
        "t_end": chunk.end,
        "text": chunk.text,
        "context": chunk.context,
        "content": chunk.embed_text,
        "image": json.dumps(chunk.image.to_dict()) if chunk.image else None,
        "metadata": json.dumps(dict(chunk.metadata), sort_keys=True),
    }
    for key, value in chunk.metadata.items():
        if _meta_type(value) is not None and _KEY.match(key):
            props[meta_property(key)] = list(value) if isinstance(value, tuple) else value
    return {k: v for k, v in props.items() if v is not None}


def properties_to_chunk(props: Mapping[str, Any]) -> Chunk:
    return Chunk(
        id=props["chunk_id"],
        doc_id=props["doc_id"],
        source=props["source"],
        modality=Modality(props["modality"]),
        text=props.get("text") or "",
        context=props.get("context") or "",
        image=ImageRef.from_dict(json.loads(props["image"])) if props.get("image") else None,
        page=None if props.get("page") is None else int(props["page"]),
        slide=None if props.get("slide") is None else int(props["slide"]),
        start=props.get("t_start"),
        end=props.get("t_end"),
        metadata=json.loads(props["metadata"]) if props.get("metadata") else {},
    )


def object_vectors(spaces: Mapping[str, EmbedderSpec], vectors: Mapping[str, Any], i: int) -> dict[str, Any]:
    """The named vectors of chunk ``i``: pooled spaces as lists, multi-vector spaces as a
    list of token vectors plus their pooled vector."""
    out: dict[str, Any] = {}
    for space, spec in spaces.items():
        value = vectors[space][i]
        if spec.multivector:
            tokens = np.asarray(value, dtype=np.float32)
            out[space] = tokens.tolist()
            out[pooled_name(space)] = pool_tokens(tokens).tolist()
        else:
            out[space] = np.asarray(value, dtype=np.float32).tolist()
    return out


def batch_errors(errors: Mapping[int, Any], ids: Sequence[str]) -> list[str]:
    """``"chunk <id>: <reason>"`` for each failed object of one ``insert_many``."""
    return [f"chunk {ids[i]}: {err.message}" for i, err in sorted(errors.items())]


def hit(obj: Any, key: str, score: float | None) -> Hit:
    value = float(score or 0.0)
    return Hit(properties_to_chunk(obj.properties), value, {key: value})
