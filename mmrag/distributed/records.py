"""How chunks and vectors travel between pipeline stages: as JSON text and raw
float32 bytes, which Arrow (and so Daft and Ray) moves without pickling."""

from __future__ import annotations

import json
from dataclasses import fields
from typing import Any

import numpy as np

from mmrag.types import Chunk, ImageRef, Modality

_CHUNK_FIELDS = [f.name for f in fields(Chunk)]


def chunk_to_json(chunk: Chunk) -> str:
    data: dict[str, Any] = {name: getattr(chunk, name) for name in _CHUNK_FIELDS}
    data["modality"] = chunk.modality.value
    data["image"] = chunk.image.to_dict() if chunk.image else None
    data["metadata"] = dict(chunk.metadata)
    return json.dumps(data, ensure_ascii=False)


def chunk_from_json(text: str) -> Chunk:
    data = json.loads(text)
    data["modality"] = Modality(data["modality"])
    data["image"] = ImageRef.from_dict(data["image"]) if data["image"] else None
    return Chunk(**data)


def pack_vectors(vectors: np.ndarray) -> bytes:
    """An ``(n, dim)`` array as float32 bytes."""
    return np.ascontiguousarray(vectors, dtype=np.float32).tobytes()


def unpack_vectors(data: bytes, dim: int) -> np.ndarray:
    """The ``(n, dim)`` float32 array ``pack_vectors`` made (a writable copy)."""
    return np.frombuffer(data, dtype=np.float32).reshape(-1, dim).copy()

