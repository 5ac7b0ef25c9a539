"""A LangChain ``VectorStore`` over an mmrag store (Milvus Lite, Milvus, Weaviate)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.runnables.config import run_in_executor
from langchain_core.vectorstores import VectorStore
from langchain_core.vectorstores.utils import maximal_marginal_relevance

from langchain_mmrag.convert import chunk_from_metadata, chunk_to_document, image_chunk
from langchain_mmrag.embeddings import MmragEmbeddings, as_embedder, check_image_paths
from langchain_mmrag.search import search_options
from mmrag.embedding.base import Embedder
from mmrag.errors import InvalidArgument
from mmrag.fields import check_id
from mmrag.index import Index
from mmrag.retrieval.scores import relevance_scores
from mmrag.stores import SearchMode, SearchRequest
from mmrag.types import Hit


class MmragVectorStore(VectorStore):
    """mmrag's hybrid (dense + BM25) multimodal store behind LangChain's VectorStore API.

    Example::

        from langchain_mmrag import MmragEmbeddings, MmragVectorStore
        store = MmragVectorStore(MmragEmbeddings(), uri="mmrag.db", collection="docs")
        ids = store.add_texts(["Bees dance to share where flowers are"], metadatas=[{"source": "bees.md"}])
        store.similarity_search("honeybee communication", k=4)                     # hybrid, adaptive fusion
        store.similarity_search("honeybee", k=4, mode="hybrid", alpha=0.7)          # weighted
        store.similarity_search("honeybee", k=4, filter={"source": "bees.md"})
        retriever = store.as_retriever(search_kwargs={"k": 5, "mode": "bm25"})

    ``embedding`` may be any LangChain ``Embeddings``; the collection records which
    model made its vectors and refuses a different one later. Pass ``index=`` to
    reuse an ``mmrag.Index`` (e.g. a collection filled by ``mmrag ingest`` with
    several embedding spaces). Search kwargs: ``mode`` (hybrid|dense|bm25),
    ``filter``/``filters`` (``{key: value | [values] | mmrag.Range}``), ``alpha``
    (1 = dense only, 0 = BM25 only) or ``weights=(dense, bm25)``, ``fusion`` (adaptive|rrf|weighted).
    """

    def __init__(
        self,
        embedding: Embeddings | Embedder | None = None,
        *,
        uri: str = "mmrag.db",
        collection: str = "mmrag",
        index: Index | None = None,
    ) -> None:
        if index is not None and embedding is not None:
            raise ValueError("give an embedding or an index, not both (the index has its embedders)")
        if index is None:
            embedding = embedding if embedding is not None else MmragEmbeddings()
            index = Index(uri, collection, embedder=as_embedder(embedding))
        self._embedding = embedding if isinstance(embedding, Embeddings) else None
        self.index = index
        index.store.ensure_collection(index.spaces.specs())

    @property
    def embeddings(self) -> Embeddings | None:
        if self._embedding is None:
            self._embedding = MmragEmbeddings(next(iter(self.index.spaces.embedders.values())))
        return self._embedding

    # -- writes -------------------------------------------------------------
    def add_texts(
        self,
        texts: Iterable[str],
        metadatas: list[dict] | None = None,
        *,
        ids: list[str | None] | None = None,
        **kwargs: Any,
    ) -> list[str]:
        texts = list(texts)
        metadatas = metadatas or [{} for _ in texts]
        given = ids or [None] * len(texts)
        if not len(texts) == len(metadatas) == len(given):
            raise ValueError(f"{len(texts)} texts, {len(metadatas)} metadatas and {len(given)} ids do not line up")
        out = [check_id(i, "document id") if i else str(uuid.uuid4()) for i in given]
        chunks = [chunk_from_metadata(i, t, m) for i, t, m in zip(out, texts, metadatas)]
        self.index.add(chunks)
        return out

    def add_images(
        self, uris: list[str], metadatas: list[dict] | None = None, *, ids: list[str] | None = None
    ) -> list[str]:
        """Add image files (as Chroma's ``add_images`` does); image-text spaces embed
        the pixels, text spaces the file name and any ``caption`` metadata."""
        uris = check_image_paths(uris)
        metadatas = metadatas or [{} for _ in uris]
        out = [check_id(i, "document id") for i in ids] if ids else [str(uuid.uuid4()) for _ in uris]
        if not len(uris) == len(metadatas) == len(out):
            raise ValueError(f"{len(uris)} uris, {len(metadatas)} metadatas and {len(out)} ids do not line up")
        self.index.add([image_chunk(i, u, m) for i, u, m in zip(out, uris, metadatas)])
        return out

    def delete(self, ids: list[str] | None = None, **kwargs: Any) -> bool | None:
        if ids is None:
            raise ValueError("pass the ids to delete (deleting a whole collection is done with the mmrag CLI)")
        self.index.store.delete(list(ids))
        return True

    def get_by_ids(self, ids: Sequence[str], /) -> list[Document]:
        return [chunk_to_document(c) for c in self.index.store.get(list(ids))]

    # -- reads --------------------------------------------------------------
    def similarity_search_with_score(self, query: str, k: int = 4, **kwargs: Any) -> list[tuple[Document, float]]:
        hits = self.index.search(query, k, **search_options(kwargs))
        return [(chunk_to_document(h.chunk), h.score) for h in hits]

    def similarity_search(self, query: str, k: int = 4, **kwargs: Any) -> list[Document]:
        return [doc for doc, _ in self.similarity_search_with_score(query, k, **kwargs)]

    def similarity_search_by_vector(self, embedding: list[float], k: int = 4, **kwargs: Any) -> list[Document]:
        """Dense search with a ready vector (single-space collections; BM25 needs the query text)."""
        opts = search_options(kwargs)
        if opts.pop("mode", "dense") != "dense" or opts.get("alpha") is not None or opts.get("weights") is not None:
            raise InvalidArgument("search by vector is dense search; BM25 and hybrid need the query text")
        return [chunk_to_document(h.chunk) for h in self._by_vector(embedding, k, opts.get("filters"))]

    def _space(self) -> tuple[str, Any]:
        specs = self.index.spaces.specs()
        if len(specs) != 1:
            raise InvalidArgument(f"search by vector and MMR need a single embedding space; this collection has {', '.join(specs)}")
        (space, spec), = specs.items()
        return space, spec

    def _by_vector(self, embedding: Sequence[float], k: int, filters: Any) -> list[Hit]:
        space, spec = self._space()
        vector = np.asarray(embedding, dtype=np.float32)
        if vector.shape != (spec.dim,):
            raise InvalidArgument(f"the vector has {vector.size} dimensions; '{space}' holds {spec.describe()}")
        return self.index.run(SearchRequest("", {space: vector}, k=k, mode=SearchMode.DENSE, filters=filters))

    # -- maximal marginal relevance: relevant and unlike each other ---------------
    def max_marginal_relevance_search(
        self, query: str, k: int = 4, fetch_k: int = 20, lambda_mult: float = 0.5, **kwargs: Any
    ) -> list[Document]:
        """MMR over the store's own vectors of the ``fetch_k`` best dense hits;
        kwargs: ``filter``/``filters``. Needs a single-space collection."""
        space, _ = self._space()
        if not query.strip():
            raise InvalidArgument("the query is empty")
        vector = self.index.spaces.embed_query(query)[space]
        return self.max_marginal_relevance_search_by_vector(vector.tolist(), k, fetch_k, lambda_mult, **kwargs)

    def max_marginal_relevance_search_by_vector(
        self, embedding: list[float], k: int = 4, fetch_k: int = 20, lambda_mult: float = 0.5, **kwargs: Any
    ) -> list[Document]:
        opts = search_options(kwargs)
        if set(opts) - {"filters"}:
            raise InvalidArgument(f"MMR ranks dense hits; it takes filter/filters, not {', '.join(sorted(set(opts) - {'filters'}))}")
        if not 0.0 <= lambda_mult <= 1.0:
            raise InvalidArgument(f"lambda_mult is in [0, 1] (1 = relevance only, 0 = diversity only), got {lambda_mult}")
        if k < 1 or fetch_k < 1:
            raise InvalidArgument(f"k and fetch_k must be >= 1, got k={k}, fetch_k={fetch_k}")
        hits = self._by_vector(embedding, max(k, fetch_k), opts.get("filters"))
        stored = self.index.vectors([h.chunk.id for h in hits], self._space()[0])
        hits = [h for h in hits if h.chunk.id in stored]
        picked = maximal_marginal_relevance(
            np.asarray(embedding, dtype=np.float32), [stored[h.chunk.id] for h in hits], lambda_mult=lambda_mult, k=k
        )
        return [chunk_to_document(hits[i].chunk) for i in picked]

    def _similarity_search_with_relevance_scores(
        self, query: str, k: int = 4, **kwargs: Any
    ) -> list[tuple[Document, float]]:
        """Relevance in [0, 1] in every mode, monotone with the ranking
        (``mmrag.retrieval.scores.relevance_scores``); the raw scores are in ``similarity_search_with_score``."""
        hits = self.index.search(query, k, **search_options(kwargs))
        return [(chunk_to_document(h.chunk), r) for h, r in zip(hits, relevance_scores(hits))]

    async def _asimilarity_search_with_relevance_scores(
        self, query: str, k: int = 4, **kwargs: Any
    ) -> list[tuple[Document, float]]:
        return await run_in_executor(None, self._similarity_search_with_relevance_scores, query, k, **kwargs)

    @classmethod
    def from_texts(
        cls,
        texts: list[str],
        embedding: Embeddings,
        metadatas: list[dict] | None = None,
        *,
        ids: list[str] | None = None,
        **kwargs: Any,
    ) -> MmragVectorStore:
        store = cls(embedding, **kwargs)
        store.add_texts(texts, metadatas, ids=ids)
        return store
