"""A LlamaIndex vector store over an mmrag store: dense, BM25 and hybrid in one."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.indices.query.embedding_utils import get_top_k_mmr_embeddings
from llama_index.core.schema import BaseNode
from llama_index.core.vector_stores.types import (
    BasePydanticVectorStore,
    MetadataFilters,
    VectorStoreQuery,
    VectorStoreQueryMode,
    VectorStoreQueryResult,
)
from llama_index.vector_stores.mmrag.convert import chunk_to_node, node_to_chunk
from llama_index.vector_stores.mmrag.filters import to_mmrag_filters
from pydantic import PrivateAttr

from mmrag.embedding.base import Embedder
from mmrag.embedding.spaces import EmbeddingSpaces, SpaceVectors
from mmrag.errors import FilterError, InvalidArgument, LoaderError, ModelMismatchError
from mmrag.fields import check_id
from mmrag.index import Index
from mmrag.retrieval.scores import relevance_scores
from mmrag.stores import And, Filter, In, SearchMode, SearchRequest
from mmrag.stores.base import check_specs
from mmrag.types import Chunk, ImageKind

MODES = {
    VectorStoreQueryMode.DEFAULT: SearchMode.DENSE,
    VectorStoreQueryMode.SPARSE: SearchMode.BM25,
    VectorStoreQueryMode.TEXT_SEARCH: SearchMode.BM25,
    VectorStoreQueryMode.HYBRID: SearchMode.HYBRID,
    VectorStoreQueryMode.MMR: SearchMode.DENSE,  # dense candidates, then diversity over their stored vectors
}
MMR_PREFETCH_FACTOR = 4.0  # as llama-index-vector-stores-milvus: similarity_top_k * 4 candidates


def _where(node_ids: list[str] | None, filters: MetadataFilters | None, call: str) -> Filter | None:
    """The mmrag filter for ids and/or filters (None: ids alone, looked up by key)."""
    where = to_mmrag_filters(filters)
    if where is None and node_ids is None:
        raise FilterError(f"{call} needs node_ids, filters or both")
    if where is None or not node_ids:
        return where
    return And(In("id", tuple(node_ids)), where)


class LlamaIndexEmbedder(Embedder):
    """Any LlamaIndex embedding as an mmrag ``Embedder``, so the collection records
    which model made its vectors and refuses another one later."""

    def __init__(self, embed_model: BaseEmbedding) -> None:
        super().__init__(batch_size=embed_model.embed_batch_size)
        self.embed_model = embed_model
        self.model_name = f"llama_index:{type(embed_model).__name__}:{embed_model.model_name}"
        self._dim: int | None = None

    @property
    def dim(self) -> int:
        if self._dim is None:
            self._dim = len(self.embed_model.get_query_embedding("dimension probe"))
        return self._dim

    def _embed_texts(self, texts: list[str], *, query: bool) -> np.ndarray:
        if query:
            return np.asarray([self.embed_model.get_query_embedding(t) for t in texts], dtype=np.float32)
        return np.asarray(self.embed_model.get_text_embedding_batch(texts), dtype=np.float32)


def as_spaces(embed_model: Any) -> EmbeddingSpaces:
    if isinstance(embed_model, EmbeddingSpaces):
        return embed_model
    if isinstance(embed_model, Embedder):
        return EmbeddingSpaces({"text": embed_model})
    embedder = getattr(embed_model, "embedder", None)  # MmragEmbedding
    if isinstance(embedder, Embedder):
        return EmbeddingSpaces({"text": embedder})
    if isinstance(embed_model, BaseEmbedding):
        return EmbeddingSpaces({"text": LlamaIndexEmbedder(embed_model)})
    raise TypeError(f"embed_model must be an mmrag Embedder, EmbeddingSpaces or LlamaIndex embedding, not {type(embed_model).__name__}")


class MmragVectorStore(BasePydanticVectorStore):
    """mmrag's Milvus/Weaviate collection as a LlamaIndex vector store.

    Example::

        from llama_index.core import StorageContext, VectorStoreIndex
        from llama_index.embeddings.mmrag import MmragEmbedding
        from llama_index.vector_stores.mmrag import MmragVectorStore

        embed = MmragEmbedding()
        store = MmragVectorStore(uri="mmrag.db", collection="docs", embed_model=embed)
        index = VectorStoreIndex(nodes, storage_context=StorageContext.from_defaults(vector_store=store),
                                 embed_model=embed)
        index.as_retriever(vector_store_query_mode="hybrid", alpha=0.6).retrieve("query")

    Query modes: ``default`` (dense), ``sparse``/``text_search`` (BM25), ``hybrid``
    (RRF, or weighted ``alpha * dense + (1 - alpha) * bm25`` on min-max normalised
    scores when ``alpha`` is given: 1 = dense only, 0 = BM25 only) and ``mmr``
    (``vector_store_kwargs={"mmr_threshold": 0.5, "mmr_prefetch_k": 20}`` or
    ``"mmr_prefetch_factor"``, or ``VectorStoreQuery(mmr_threshold=)``: LlamaIndex's MMR over the stored vectors of the best
    dense candidates). The store keeps
    the text (``stores_text``), so it also finds chunks that ``mmrag ingest`` wrote
    and that were never in this index's own node list. ``embed_model`` must be the
    one that makes the nodes' embeddings; with several spaces (``EmbeddingSpaces``
    or ``index=``) the store embeds nodes and queries itself in every space.
    """

    stores_text: bool = True
    flat_metadata: bool = False
    is_embedding_query: bool = True

    _index: Index = PrivateAttr()

    def __init__(
        self,
        uri: str = "mmrag.db",
        collection: str = "mmrag",
        *,
        embed_model: Any = None,
        index: Index | None = None,
    ) -> None:
        super().__init__()
        if index is not None and embed_model is not None:
            raise ValueError("give an embed_model or an index, not both (the index has its embedders)")
        if index is None:
            spaces = as_spaces(embed_model) if embed_model is not None else None
            index = Index(uri, collection, embedder=spaces)
        self._index = index
        index.store.ensure_collection(index.spaces.specs())

    @classmethod
    def class_name(cls) -> str:
        return "MmragVectorStore"

    @property
    def client(self) -> Any:
        return self._index.store

    @property
    def index(self) -> Index:
        return self._index

    # -- writes ---------------------------------------------------------------
    def _vectors(self, chunks: Sequence[Chunk], nodes: Sequence[BaseNode]) -> dict[str, SpaceVectors] | None:
        """The nodes' own embeddings for a single-space collection; else None (the index embeds them)."""
        specs = self._index.spaces.specs()
        if len(specs) == 1 and all(n.embedding is not None for n in nodes):
            (space, spec), = specs.items()
            vectors = np.asarray([n.embedding for n in nodes], dtype=np.float32)
            if vectors.shape[1] != spec.dim:
                raise ModelMismatchError(
                    f"nodes carry {vectors.shape[1]}-d embeddings but collection '{self._index.store.collection}' "
                    f"holds {spec.describe()}; use the same embed_model for the index and the store"
                )
            return {space: vectors}
        for chunk in chunks:  # the store reads these images itself: fail as the core does, naming the file
            if chunk.image is not None and chunk.image.kind is ImageKind.FILE and not Path(chunk.image.source).is_file():
                raise LoaderError(chunk.image.source, "no such file")
        return None

    def add(self, nodes: Sequence[BaseNode], **add_kwargs: Any) -> list[str]:
        if not nodes:
            return []
        nodes = list({n.node_id: n for n in nodes}.values())
        for n in nodes:
            check_id(n.node_id, "node id")
            check_id(n.ref_doc_id or n.node_id, "ref_doc_id")
        chunks = [node_to_chunk(n) for n in nodes]
        self._index.add(chunks, self._vectors(chunks, nodes))
        return [n.node_id for n in nodes]

    def delete(self, ref_doc_id: str, **delete_kwargs: Any) -> None:
        self._index.store.delete_source(ref_doc_id)

    def delete_nodes(
        self, node_ids: list[str] | None = None, filters: MetadataFilters | None = None, **delete_kwargs: Any
    ) -> None:
        """Delete the nodes with these ids, matching these filters, or both."""
        where = _where(node_ids, filters, "delete_nodes")
        if where is None:
            self._index.store.delete(node_ids or [])
        elif node_ids != []:
            self._index.store.delete_where(where)

    def clear(self) -> None:
        for source in self._index.store.sources():
            self._index.store.delete_source(source.doc_id)

    def get_nodes(self, node_ids: list[str] | None = None, filters: MetadataFilters | None = None) -> list[BaseNode]:
        """The nodes with these ids (in that order), or matching these filters (by id), or both."""
        where = _where(node_ids, filters, "get_nodes")
        if where is None:
            chunks = self._index.store.get(node_ids or [])
        else:
            chunks = self._index.store.select(where) if node_ids != [] else []
        return [chunk_to_node(c) for c in chunks]

    # -- reads ----------------------------------------------------------------
    def query(self, query: VectorStoreQuery, **kwargs: Any) -> VectorStoreQueryResult:
        if query.mode not in MODES:
            valid = ", ".join(m.value for m in MODES)
            raise ValueError(f"query mode {query.mode.value!r} is not supported by mmrag; valid: {valid}")
        mode = MODES[query.mode]
        k = query.similarity_top_k
        if mode is SearchMode.BM25:
            k = query.sparse_top_k or k
        elif mode is SearchMode.HYBRID:
            k = query.hybrid_top_k or k
        text = query.query_str or ""
        if mode is not SearchMode.DENSE and not text.strip():
            raise ValueError("the query is empty")
        where = to_mmrag_filters(query.filters)
        # query.node_ids is not applied: over a store that keeps the text,
        # VectorStoreIndex lists only its ImageNodes/IndexNodes there and its
        # retriever passes that list, which would hide every text hit (the bug
        # seen with llama-index-vector-stores-milvus). Restrict by doc_ids or filters.
        if query.doc_ids:
            docs = In("doc_id", tuple(query.doc_ids))
            where = docs if where is None else And(where, docs)
        stored = self._index.store.spaces()
        check_specs(self._index.store.collection, stored, self._index.spaces.specs())
        vectors = self._query_vectors(query, mode, text)
        if query.mode is VectorStoreQueryMode.MMR:
            return self._mmr(vectors, k, where, {"mmr_threshold": query.mmr_threshold, **kwargs})
        request = SearchRequest(
            text,
            vectors,
            k=k,
            mode=mode,
            filters=where,
            alpha=query.alpha if mode is SearchMode.HYBRID else None,
        )
        hits = self._index.run(request)
        return VectorStoreQueryResult(
            nodes=[chunk_to_node(h.chunk) for h in hits],
            similarities=relevance_scores(hits),
            ids=[h.chunk.id for h in hits],
        )

    def _mmr(self, vectors: dict[str, np.ndarray], k: int, where: Filter | None, kwargs: dict[str, Any]) -> VectorStoreQueryResult:
        """LlamaIndex's MMR (``get_top_k_mmr_embeddings``, as its own stores run it) over the
        stored vectors of the ``mmr_prefetch_k`` (default ``k * mmr_prefetch_factor``) best
        dense hits, so results are the ones LlamaIndex's own stores give. Similarities are its
        MMR scores mapped from [-1, 1] to [0, 1]; LlamaIndex's MMR weighs each candidate against
        the previous pick only, so they need not fall down the list."""
        if len(vectors) != 1:
            raise InvalidArgument(f"MMR compares vectors of one embedding space; this collection has {', '.join(vectors)}")
        if kwargs.get("mmr_prefetch_k") is not None and kwargs.get("mmr_prefetch_factor") is not None:
            raise InvalidArgument("give mmr_prefetch_k or mmr_prefetch_factor, not both")
        threshold = kwargs.get("mmr_threshold")
        if threshold is not None and not 0.0 <= threshold <= 1.0:
            raise InvalidArgument(f"mmr_threshold is in [0, 1] (1 = relevance only, 0 = diversity only), got {threshold}")
        prefetch = kwargs.get("mmr_prefetch_k") or int(k * kwargs.get("mmr_prefetch_factor", MMR_PREFETCH_FACTOR))
        if prefetch < 1:
            raise InvalidArgument(f"mmr_prefetch_k must be >= 1, got {prefetch}")
        (space, vector), = vectors.items()
        hits = self._index.run(SearchRequest("", vectors, k=max(k, prefetch), mode=SearchMode.DENSE, filters=where))
        stored = self._index.vectors([h.chunk.id for h in hits], space)
        hits = [h for h in hits if h.chunk.id in stored]
        scores, ids = get_top_k_mmr_embeddings(
            np.asarray(vector, dtype=np.float32).tolist(), [stored[h.chunk.id].tolist() for h in hits],
            similarity_top_k=k, embedding_ids=[h.chunk.id for h in hits], mmr_threshold=threshold,
        )
        by_id = {h.chunk.id: h.chunk for h in hits}
        return VectorStoreQueryResult(
            nodes=[chunk_to_node(by_id[i]) for i in ids],
            similarities=[min(1.0, max(0.0, (1.0 + float(s)) / 2.0)) for s in scores],
            ids=list(ids),
        )

    def _query_vectors(self, query: VectorStoreQuery, mode: SearchMode, text: str) -> dict[str, np.ndarray]:
        if mode is SearchMode.BM25:
            return {}
        specs = self._index.spaces.specs()
        if len(specs) == 1 and query.query_embedding is not None:
            (space, spec), = specs.items()
            vector = np.asarray(query.query_embedding, dtype=np.float32)
            if vector.shape != (spec.dim,):
                raise ModelMismatchError(
                    f"the query embedding has {vector.shape[-1]} dimensions but collection "
                    f"'{self._index.store.collection}' holds {spec.describe()}; use the same embed_model"
                )
            return {space: vector}
        if not text.strip():
            raise ValueError("the query is empty")
        return self._index.spaces.embed_query(text)
