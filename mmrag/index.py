"""The Python API in one object: ingest files, search them, describe the store."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from mmrag.chunking import Chunker, WindowOptions
from mmrag.embedding.base import Embedder
from mmrag.embedding.images import ImageInput
from mmrag.embedding.spaces import EmbeddingSpaces
from mmrag.embedding.sentence_transformer import SentenceTransformerEmbedder
from mmrag.ingest import IngestReport, Ingestor, ProgressHook
from mmrag.loaders import Loader
from mmrag.retrieval.collapse import collapse_page_renders
from mmrag.stores import CollectionInfo, Fusion, SearchMode, SearchRequest, VectorStore, open_store
from mmrag.stores.base import check_specs
from mmrag.stores.filters import Filters
from mmrag.types import Hit

if TYPE_CHECKING:
    from mmrag.reranking import Reranker


class Index:
    """A searchable collection of mixed documents.

    Example::

        import mmrag
        index = mmrag.Index("mmrag.db")          # Milvus Lite file, MiniLM text model
        report = index.ingest(["examples/data"])
        for hit in index.search("quarterly revenue", k=5):
            print(hit.chunk.source, hit.chunk.page, hit.score)

    ``store`` is a URI (``*.db``, ``milvus://host:19530``, ``http(s)://...``) or a
    ``VectorStore``; ``embedder`` is one embedder (stored as space ``text``) or an
    ``EmbeddingSpaces``; it defaults to the offline MiniLM.
    """

    def __init__(
        self,
        store: str | VectorStore = "mmrag.db",
        collection: str = "mmrag",
        *,
        embedder: Embedder | EmbeddingSpaces | None = None,
        window: WindowOptions | None = None,
        loaders: list[Loader] | None = None,
    ) -> None:
        self.store = open_store(store, collection) if isinstance(store, str) else store
        embedder = embedder or SentenceTransformerEmbedder()
        self.spaces = embedder if isinstance(embedder, EmbeddingSpaces) else EmbeddingSpaces({"text": embedder})
        self.window = window or WindowOptions()
        self.loaders = loaders  # None: the Ingestor's default (mmrag.ingest.loaders_for)

    @property
    def ingestor(self) -> Ingestor:
        return Ingestor(self.store, self.spaces, Chunker(self.spaces.tokenizer, self.window), loaders=self.loaders)

    def ingest(self, paths: Iterable[str | Path], on_file: ProgressHook | None = None) -> IngestReport:
        """Ingest files and folders; unchanged files are skipped, changed ones replaced."""
        return self.ingestor.run(paths, on_file)

    def search(
        self,
        query: str | None = None,
        k: int = 10,
        *,
        image: ImageInput | None = None,
        mode: str | SearchMode = SearchMode.HYBRID,
        filters: Filters | None = None,
        fusion: str | Fusion = Fusion.ADAPTIVE,
        rerank: Reranker | None = None,
        candidates_factor: int = 4,
        blend: float | None = None,
    ) -> list[Hit]:
        """The best ``k`` hits for ``query`` text, an ``image`` (path, bytes, PIL
        image), or both ("photos like this one, at night").

        An image is embedded by the spaces that embed pixels; an image-only query
        has no BM25 side, so hybrid search is its dense search and BM25 refuses it.
        With ``rerank``, the first stage fetches ``k * candidates_factor`` hits,
        the reranker reorders them by the query text and the best ``k`` come back,
        each with ``scores["first_stage"]`` and ``scores["rerank"]``; ``blend`` in
        [0, 1] mixes the two (see ``mmrag.reranking.reranked``).
        """
        text = (query or "").strip()
        if not text and image is None:
            raise ValueError("the query is empty: give text, an image, or both")
        if candidates_factor < 1:
            raise ValueError(f"candidates_factor must be >= 1, got {candidates_factor}")
        mode = SearchMode.parse(mode)
        if not text and mode is SearchMode.BM25:
            raise ValueError("BM25 search needs query text; an image query runs in dense or hybrid mode")
        if rerank is not None:
            if not text:
                raise ValueError("reranking scores hits against the query text; an image-only query has none")
            first = self.search(query, k * candidates_factor, image=image, mode=mode, filters=filters, fusion=fusion)
            return rerank.rerank(text, first, k=k, blend=blend)
        stored = self.store.spaces()
        if stored:
            check_specs(self.store.collection, stored, self.spaces.specs())
        vectors = {} if mode is SearchMode.BM25 else self.spaces.embed_query(text or None, image)
        return self.run(SearchRequest(text, vectors, k=k, mode=mode, filters=filters, fusion=fusion))

    def run(self, request: SearchRequest) -> list[Hit]:
        """Run a prepared request: the store's hits, with a page render and its own
        page's text counted once (fetched deeper so ``k`` hits still come back)."""
        deeper = replace(request, k=request.k * 2)
        return collapse_page_renders(self.store.search(deeper))[: request.k]

    def info(self) -> list[CollectionInfo]:
        """Collections at the store's location with row counts and their models."""
        return self.store.info()

    def close(self) -> None:
        self.store.close()
