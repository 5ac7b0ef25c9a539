"""The Milvus store: the writer and the queries over one collection."""

from __future__ import annotations

from mmrag.stores.base import VectorStore
from mmrag.stores.boundary import map_store_errors
from mmrag.stores.milvus.manifest import MilvusManifest
from mmrag.stores.milvus.queries import MilvusQueries
from mmrag.stores.milvus.writer import MilvusWriter

try:
    from pymilvus.exceptions import MilvusException
except ImportError:  # pragma: no cover - exercised by the no-extras test run
    MilvusException = None


@map_store_errors(*([MilvusException] if MilvusException else []))
class MilvusStore(MilvusWriter, MilvusQueries, VectorStore):
    """Chunks in a Milvus collection, searched by dense, BM25, hybrid or late interaction.

    Example::

        store = MilvusStore("mmrag.db", collection="docs")  # Milvus Lite file
        store = MilvusStore("http://milvus:19530", token="root:Milvus")  # server
        store.ensure_collection({"text": embedder.spec()})
        hits = store.search(SearchRequest("query", {"text": qvec}, k=5))
        # late interaction: a multi-vector space, an (n_tokens, dim) query
        hits = store.search(SearchRequest("query", {"pages": qtokens}, mode="late", candidates=100))
    """

    def manifest(self) -> MilvusManifest:
        return MilvusManifest(self.client, self.collection, lite=self.is_lite)
