"""The Weaviate store: the writer and the queries over one collection."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mmrag.stores.base import VectorStore
from mmrag.stores.boundary import map_store_errors
from mmrag.stores.weaviate.collection import weaviate
from mmrag.stores.weaviate.queries import WeaviateQueries
from mmrag.stores.weaviate.writer import WeaviateWriter

if TYPE_CHECKING:
    from mmrag.stores.weaviate.manifest import WeaviateManifest


@map_store_errors(*([weaviate.exceptions.WeaviateBaseError] if weaviate else []))
class WeaviateStore(WeaviateWriter, WeaviateQueries, VectorStore):
    """Chunks in a Weaviate collection, searched by dense, BM25, hybrid or late interaction.

    Example::

        store = WeaviateStore.from_uri("weaviate://localhost:8080", "docs")   # gRPC on 50051
        store = WeaviateStore.from_uri("https://abc.weaviate.cloud", "docs", api_key="...")
        store = WeaviateStore.embedded("docs", binary_path="/opt/weaviate")   # no download
        store.ensure_collection({"text": embedder.spec()})
        hits = store.search(SearchRequest("query", {"text": qvec}, k=5, alpha=0.0))  # pure BM25

    ``muvera=True`` encodes multi-vectors with MUVERA (servers >= 1.31): a faster,
    approximate first stage, rescored by exact MaxSim on the server; a mapping
    (``{"repetitions": 20, "simhash_bits": 5, "projection_dim": 16}``) sets it in the
    names MilvusStore's ``muvera=`` uses. Off by default here, as in Weaviate.
    """

    def manifest(self) -> WeaviateManifest:
        from mmrag.stores.weaviate.manifest import WeaviateManifest

        return WeaviateManifest(self.client, self.name)
