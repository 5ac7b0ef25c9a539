"""Stores: where chunks and their vectors live, chosen by URI."""

from __future__ import annotations

from mmrag.stores.base import CollectionInfo, Fusion, SearchMode, SearchRequest, SourceInfo, VectorStore
from mmrag.stores.filters import Range

__all__ = [
    "CollectionInfo",
    "Fusion",
    "Range",
    "SearchMode",
    "SearchRequest",
    "SourceInfo",
    "VectorStore",
    "open_store",
]


def open_store(uri: str = "mmrag.db", collection: str = "mmrag", *, token: str | None = None) -> VectorStore:
    """The store behind ``uri``: a ``*.db`` path (Milvus Lite), ``milvus://`` or ``http(s)://`` (Milvus server)."""
    from mmrag.stores.milvus import MilvusStore

    return MilvusStore(uri, collection, token=token)
