"""Stores: where chunks and their vectors live, chosen by URI."""

from __future__ import annotations

from mmrag.stores.base import CollectionInfo, Fusion, SearchMode, SearchRequest, SourceInfo, VectorStore
from mmrag.stores.filters import And, Eq, Filter, In, Match, Not, Or, Range

__all__ = [
    "And",
    "CollectionInfo",
    "Eq",
    "Filter",
    "Fusion",
    "In",
    "Match",
    "Not",
    "Or",
    "Range",
    "SearchMode",
    "SearchRequest",
    "SourceInfo",
    "VectorStore",
    "open_store",
]


def open_store(
    uri: str = "mmrag.db", collection: str = "mmrag", *, token: str | None = None, create: bool = True
) -> VectorStore:
    """The store behind ``uri``.

    - ``path.db`` or ``milvus:///path.db``: a Milvus Lite file;
    - ``milvus://host:19530``, ``http(s)://host:port``: a Milvus server or cluster (``token``: ``user:password``);
    - ``weaviate://host:8080[?grpc_port=50051&secure=true]``: a Weaviate server;
    - ``https://<cluster>.weaviate.cloud``: Weaviate Cloud.

    For Weaviate ``token`` is the API key; it defaults to the ``WEAVIATE_API_KEY`` variable.
    ``create=False`` refuses a Milvus Lite path with no store yet instead of creating
    one (a search or a listing should not leave an empty store behind).
    """
    from mmrag.stores.uris import is_weaviate_uri

    if is_weaviate_uri(uri):
        from mmrag.stores.weaviate import WeaviateStore

        return WeaviateStore.from_uri(uri, collection, api_key=token)
    from mmrag.stores.milvus import MilvusStore

    return MilvusStore(uri, collection, token=token, create=create)
