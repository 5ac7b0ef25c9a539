"""One exception tree: validation errors are InvalidArgument (an MmragError and a
ValueError), and a backend's exception on a read reaches the caller as a
StoreError, on a real Milvus Lite store."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

import mmrag
from mmrag.errors import InvalidArgument, MmragError, StoreError
from mmrag.stores import SearchMode, SearchRequest
from mmrag.stores.boundary import map_store_errors
from mmrag.stores.milvus import MilvusStore
from mmrag.types import Chunk, Modality

PACKAGE = Path(mmrag.__file__).parent


def test_mmrag_raises_no_bare_value_error():
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
                func = node.exc.func
                if isinstance(func, ast.Name) and func.id == "ValueError":
                    found.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert found == [], f"raise InvalidArgument, not ValueError: {found}"


def test_validation_errors_are_invalid_argument_and_still_value_errors():
    with pytest.raises(InvalidArgument, match="unknown search mode 'fuzzy'") as caught:
        SearchMode.parse("fuzzy")
    assert isinstance(caught.value, MmragError) and isinstance(caught.value, ValueError)
    with pytest.raises(InvalidArgument, match="page is 1-based"):
        Chunk(id="c", doc_id="d", source="a.txt", modality=Modality.TEXT, text="x", page=0)


def test_a_milvus_read_error_becomes_a_store_error(milvus_uri, text_embedder):
    store = MilvusStore(milvus_uri, "errs")
    store.ensure_collection({"text": text_embedder.spec()})
    store.client.release_collection("errs")  # Milvus now refuses every read of it
    with pytest.raises(StoreError, match=r"reading chunks in collection 'errs' failed: .*released"):
        store.get(["a"])
    with pytest.raises(StoreError, match="listing sources in collection 'errs' failed"):
        store.sources()
    request = SearchRequest("owl", {"text": np.ones(text_embedder.dim, dtype=np.float32)}, k=3, mode=SearchMode.DENSE)
    with pytest.raises(StoreError, match="a dense search in collection 'errs' failed"):
        store.search(request)
    store.close()


class BackendDown(Exception):
    message = "connection refused"


@map_store_errors(BackendDown)
class Flaky:
    collection = "c"

    def sources(self):
        raise BackendDown()

    def get(self, ids):
        raise StoreError("already ours")

    def flush(self):
        raise BackendDown()

    def write_source(self):
        raise BackendDown()  # maps its own errors (and undoes the write): the decorator leaves it alone


def test_the_mapping_keeps_mmrag_errors_and_leaves_self_mapping_writes_alone():
    with pytest.raises(StoreError, match="listing sources in collection 'c' failed: connection refused"):
        Flaky().sources()
    with pytest.raises(StoreError, match="^already ours$"):
        Flaky().get([])
    with pytest.raises(StoreError, match="sealing what was written in collection 'c' failed"):
        Flaky().flush()
    with pytest.raises(BackendDown):
        Flaky().write_source()


def test_store_open_failures_are_said_in_words(tmp_path):
    import errno

    from mmrag.stores.milvus.lite import open_error

    where = tmp_path / "s.db"
    try:
        raise BlockingIOError(errno.EAGAIN, "Resource temporarily unavailable")
    except BlockingIOError as lock:
        try:
            raise RuntimeError("another process holds the lock") from lock
        except RuntimeError as wrapped:
            assert "is in use by another process" in str(open_error(where, wrapped))
    assert "cannot be written (Read-only file system)" in str(open_error(where, OSError(errno.EROFS, "Read-only file system")))
    assert "the disk holding the store" in str(open_error(where, OSError(errno.ENOSPC, "No space left on device")))
    assert str(open_error(where, RuntimeError("odd"))) == f"cannot open the Milvus Lite store {where}: odd"
