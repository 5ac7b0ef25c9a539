"""Chunks and vectors survive the trip between pipeline stages unchanged."""

import numpy as np
import pytest

pytest.importorskip("daft")

from mmrag.distributed.records import (  # noqa: E402
    chunk_from_json,
    chunk_to_json,
    pack_vectors,
    unpack_vectors,
)
from mmrag.embedding.spaces import split_rows  # noqa: E402
from mmrag.types import Chunk, ImageKind, ImageRef, Modality  # noqa: E402


def test_chunk_round_trip_keeps_every_field():
    chunks = [
        Chunk("a", "d", "r.pdf", Modality.TEXT, "Zürich text", context="R > page 2", page=2, metadata={"title_path": ["S"]}),
        Chunk(
            "b", "d", "r.pdf", Modality.PAGE_IMAGE, "", image=ImageRef("r.pdf", ImageKind.PAGE_RENDER, page=3), page=3
        ),
        Chunk("c", "d", "talk.mp3", Modality.TEXT, "hello", start=1.5, end=4.0),
    ]
    for chunk in chunks:
        assert chunk_from_json(chunk_to_json(chunk)) == chunk


def test_vectors_round_trip_and_split():
    vecs = np.arange(12, dtype=np.float32).reshape(6, 2)
    back = unpack_vectors(pack_vectors(vecs), 2)
    assert back.dtype == np.float32 and np.array_equal(back, vecs)
    back[0, 0] = 99  # a writable copy, not a view of the bytes
    parts = split_rows(vecs, [2, 0, 4])
    assert [p.shape[0] for p in parts] == [2, 0, 4] and np.array_equal(parts[2], vecs[2:])
