"""Backend exceptions mapped into mmrag's tree at the store boundary, for reads
as writes already are (httpx's ``map_exceptions``): a caller catches
``StoreError``, never ``pymilvus.MilvusException`` or a Weaviate error, and the
message says which read failed in which collection."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from mmrag.errors import MmragError, StoreError

C = TypeVar("C", bound=type)

# The reads of ``VectorStore`` and what each is called in a message.
READS = {
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
}


def map_read_errors(*backend: type[BaseException]) -> Callable[[C], C]:
    """Class decorator for a store: its read methods raise ``StoreError`` for
    the ``backend`` exceptions (mmrag's own errors pass through unchanged)."""

    def decorate(cls: C) -> C:
        for name, what in READS.items():
            method = getattr(cls, name, None)
            if method is None or getattr(method, "__isabstractmethod__", False):
                continue
            setattr(cls, name, _mapped(method, what, backend))
        return cls

    return decorate


def _mapped(method: Callable[..., Any], what: str, backend: tuple[type[BaseException], ...]) -> Callable[..., Any]:
    @functools.wraps(method)
    def read(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except MmragError:
            raise
        except backend as exc:
            detail = getattr(exc, "message", None) or str(exc)
            raise StoreError(f"{what} in collection '{self.collection}' failed: {detail}") from exc

    return read
