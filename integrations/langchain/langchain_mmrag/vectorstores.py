"""A LangChain ``VectorStore`` over an mmrag store (Milvus Lite, Milvus, Weaviate)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.vectorstores import VectorStore

from langchain_mmrag.convert import chunk_from_metadata, chunk_to_document, image_chunk
from langchain_mmrag.embeddings import MmragEmbeddings, as_embedder, check_image_paths
from langchain_mmrag.search import search_options
from mmrag.embedding.base import Embedder
from mmrag.fields import check_id
from mmrag.index import Index
from mmrag.stores import SearchMode, SearchRequest


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
            raise ValueError("search by vector is dense search; BM25 and hybrid need the query text")
        specs = self.index.spaces.specs()
        if len(specs) != 1:
            raise ValueError(f"search by vector needs a single embedding space; this collection has {', '.join(specs)}")
        (space, spec), = specs.items()
        vector = np.asarray(embedding, dtype=np.float32)
        if vector.shape != (spec.dim,):
            raise ValueError(f"the vector has {vector.size} dimensions; '{space}' holds {spec.describe()}")
        request = SearchRequest("", {space: vector}, k=k, mode=SearchMode.DENSE, filters=opts.get("filters"))
        return [chunk_to_document(h.chunk) for h in self.index.run(request)]

    def _select_relevance_score_fn(self):
        """Relevance in [0, 1] is defined for dense cosine scores (``mode="dense"``)."""
        return lambda score: (1.0 + float(np.clip(score, -1.0, 1.0))) / 2.0

    def similarity_search_with_relevance_scores(
        self, query: str, k: int = 4, **kwargs: Any
    ) -> list[tuple[Document, float]]:
        mode = kwargs.get("mode", "dense")
        if mode != "dense":
            raise ValueError("relevance scores in [0, 1] are defined for mode='dense' (cosine); use similarity_search_with_score")
        return super().similarity_search_with_relevance_scores(query, k, **{**kwargs, "mode": "dense"})

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
