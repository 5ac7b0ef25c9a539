"""Backend exceptions mapped into mmrag's tree at the store boundary, for reads
as for writes (httpx's ``map_exceptions``): a caller catches ``StoreError``,
never ``pymilvus.MilvusException`` or a Weaviate error, and the message says
which operation failed in which collection. ``write_source`` and
``add_sources`` map their own, since they also undo a half-done write."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from mmrag.errors import MmragError, StoreError

C = TypeVar("C", bound=type)

# The operations of ``VectorStore`` and what each is called in a message.
OPERATIONS = {
    "spaces": "reading the collection's embedding spaces",
    "get": "reading chunks",
    "chunk_ids": "reading a source's chunk ids",
    "chunk_ids_of": "reading sources' chunk ids",
    "vectors": "reading stored vectors",
    "select": "selecting chunks by filter",
    "sources": "listing sources",
    "info": "listing collections",
    "asr_model": "reading the collection's ASR model",
    "dense_hits": "a dense search",
    "bm25_hits": "a BM25 search",
    "rrf_hits": "a hybrid (RRF) search",
    "late_hits": "a late-interaction search",
    "ensure_collection": "creating the collection",
    "record_asr_model": "recording the collection's ASR model",
    "delete": "deleting chunks",
    "delete_source": "deleting a source",
    "delete_where": "deleting chunks by filter",
    "flush": "sealing what was written",
}


def map_store_errors(*backend: type[BaseException]) -> Callable[[C], C]:
    """Class decorator for a store: its operations raise ``StoreError`` for the
    ``backend`` exceptions (mmrag's own errors pass through unchanged)."""

    def decorate(cls: C) -> C:
        for name, what in OPERATIONS.items():
            method = getattr(cls, name, None)
            if method is None or getattr(method, "__isabstractmethod__", False):
                continue
            setattr(cls, name, _mapped(method, what, backend))
        return cls

    return decorate


def _mapped(method: Callable[..., Any], what: str, backend: tuple[type[BaseException], ...]) -> Callable[..., Any]:
    @functools.wraps(method)
    def operation(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except MmragError:
            raise
        except backend as exc:
            detail = getattr(exc, "message", None) or str(exc)
            raise StoreError(f"{what} in collection '{self.collection}' failed: {detail}") from exc

    return operation
