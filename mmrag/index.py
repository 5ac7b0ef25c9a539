"""The Python API in one object: ingest files, search them, describe the store."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Literal, overload

import numpy as np

from mmrag.chunking import Chunker, WindowOptions
from mmrag.embedding.base import Embedder
from mmrag.embedding.sentence_transformer import SentenceTransformerEmbedder
from mmrag.embedding.spaces import EmbeddingSpaces, SpaceVectors, take_rows
from mmrag.errors import InvalidArgument
from mmrag.ingest.budget import DEFAULT_MAX_FILE_MB, check_budget
from mmrag.retrieval.collapse import collapse_page_renders
from mmrag.stores import CollectionInfo, Fusion, SearchMode, SearchRequest, VectorStore, open_store
from mmrag.stores.base import check_specs
from mmrag.stores.filters import Filters
from mmrag.types import Chunk, Hit

if TYPE_CHECKING:  # ingestion's modules (loaders) load when an index first ingests: search needs none
    from mmrag.asr import Transcriber
    from mmrag.embedding.images import ImageInput
    from mmrag.ingest import Ingestor, IngestReport, Plan, ProgressHook
    from mmrag.loaders import Loader
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
    ``EmbeddingSpaces``; it defaults to the offline MiniLM. ``max_file_mb``: ingest
    refuses a file larger than this (on disk, or its zip parts inflated); None: no limit.
    """

    def __init__(
        self,
        store: str | VectorStore = "mmrag.db",
        collection: str = "mmrag",
        *,
        embedder: Embedder | EmbeddingSpaces | None = None,
        window: WindowOptions | None = None,
        loaders: list[Loader] | None = None,
        asr_model: str | Transcriber | None = None,
        max_file_mb: float | None = DEFAULT_MAX_FILE_MB,
    ) -> None:
        self.store = open_store(store, collection) if isinstance(store, str) else store
        embedder = embedder or SentenceTransformerEmbedder()
        self.spaces = embedder if isinstance(embedder, EmbeddingSpaces) else EmbeddingSpaces({"text": embedder})
        self.window = window or WindowOptions()
        self.loaders = loaders  # None: the Ingestor's default (mmrag.ingest.loaders_for)
        self.max_file_mb = check_budget(max_file_mb)  # per-file budget of ingest (mmrag.ingest.budget); None: none
        if asr_model is not None:  # speech of audio and video files (Whisper id or path, or any Transcriber)
            if loaders is not None:
                raise InvalidArgument("pass asr_model to your MediaLoader when you give loaders yourself")
            from mmrag.asr import transcriber_for
            from mmrag.loaders import default_loaders

            asr = transcriber_for(asr_model) if isinstance(asr_model, str) else asr_model
            self.loaders = default_loaders(render_pages=self.spaces.embeds_images, asr=asr)

    @cached_property
    def ingestor(self) -> Ingestor:
        """The one ingestor of this index (built on first use: it opens the manifest)."""
        from mmrag.ingest import Ingestor

        return Ingestor(
            self.store, self.spaces, Chunker(self.spaces.tokenizer, self.window), loaders=self.loaders,
            max_file_mb=self.max_file_mb,
        )

    @overload
    def ingest(
        self, paths: Iterable[str | Path], on_file: ProgressHook | None = None, *, prune: bool = False,
        dry_run: Literal[False] = False, retranscribe: bool = False, follow_links: bool = False,
    ) -> IngestReport: ...

    @overload
    def ingest(
        self, paths: Iterable[str | Path], on_file: ProgressHook | None = None, *, prune: bool = False,
        dry_run: Literal[True], retranscribe: bool = False, follow_links: bool = False,
    ) -> Plan: ...

    def ingest(
        self, paths: Iterable[str | Path], on_file: ProgressHook | None = None, *, prune: bool = False,
        dry_run: bool = False, retranscribe: bool = False, follow_links: bool = False,
    ) -> IngestReport | Plan:
        """Ingest files and folders; unchanged files are skipped, changed ones replaced.
        ``prune``: also remove the sources under ``paths`` gone from disk. ``dry_run``:
        write nothing and return the ``Plan`` of what a run would do. ``retranscribe``:
        accept an ASR model other than the one the collection recorded, and read the
        files under ``paths`` again with it (otherwise that is refused). ``follow_links``:
        read symlinks that lead out of a folder being ingested (skipped with a note by default)."""
        if dry_run:
            return self.ingestor.plan(paths, prune=prune, retranscribe=retranscribe, follow_links=follow_links)
        return self.ingestor.run(paths, on_file, prune=prune, retranscribe=retranscribe, follow_links=follow_links)

    def add(self, chunks: Sequence[Chunk], vectors: Mapping[str, SpaceVectors] | None = None) -> list[str]:
        """Upsert ``chunks`` embedded in every space (multi-vector spaces too),
        leaving the other chunks of their sources alone; each source is one
        all-or-nothing write. ``vectors``: precomputed rows aligned with ``chunks``
        (a framework's own embeddings). A repeated id keeps its last chunk. Returns the ids."""
        last = {c.id: i for i, c in enumerate(chunks)}
        picked = sorted(last.values())
        chunks = [chunks[i] for i in picked]
        if not chunks:
            return []
        self.store.ensure_collection(self.spaces.specs())
        vectors = take_rows(vectors, picked) if vectors is not None else self.spaces.embed_chunks(chunks)
        rows: dict[str, list[int]] = {}
        for i, chunk in enumerate(chunks):
            rows.setdefault(chunk.doc_id, []).append(i)
        stored = self.store.chunk_ids_of(list(rows))
        for doc_id, picked in rows.items():
            part = [chunks[i] for i in picked]
            keep = stored.get(doc_id, set()) | {c.id for c in part}
            self.store.write_source(doc_id, part, take_rows(vectors, picked), keep)
        return [c.id for c in chunks]

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
        alpha: float | None = None,
        weights: tuple[float, float] | None = None,
        candidates: int | None = None,
    ) -> list[Hit]:
        """The best ``k`` hits for ``query`` text, an ``image`` (path, bytes, PIL
        image), or both ("photos like this one, at night").

        An image is embedded by the spaces that embed pixels; an image-only query
        has no BM25 side, so hybrid search is its dense search and BM25 refuses it.
        With ``rerank``, the first stage fetches ``k * candidates_factor`` hits,
        the reranker reorders them by the query text and the best ``k`` come back,
        each with ``scores["first_stage"]`` and ``scores["rerank"]``; ``blend`` in
        [0, 1] mixes the two (see ``mmrag.reranking.reranked``).

        ``alpha`` in [0, 1] is weighted fusion's dense share (0: BM25 only, 1: dense
        only, exactly); ``weights`` = (dense, bm25) the same as a pair. ``candidates``
        is how deep each retriever looks before fusion (default ``max(k, 50)``).
        """
        text = (query or "").strip()
        if not text and image is None:
            raise InvalidArgument("the query is empty: give text, an image, or both")
        if candidates_factor < 1:
            raise InvalidArgument(f"candidates_factor must be >= 1, got {candidates_factor}")
        mode = SearchMode.parse(mode)
        if not text and mode is SearchMode.BM25:
            raise InvalidArgument("BM25 search needs query text; an image query runs in dense or hybrid mode")
        if (alpha is not None or weights is not None) and mode is not SearchMode.HYBRID:
            raise InvalidArgument(f"alpha/weights weigh the two sides of hybrid search, not of {mode.value} search")
        if alpha is not None and weights is not None:
            raise InvalidArgument("give alpha or weights, not both")
        if rerank is not None:
            if not text:
                raise InvalidArgument("reranking scores hits against the query text; an image-only query has none")
            first = self.search(
                query, k * candidates_factor, image=image, mode=mode, filters=filters, fusion=fusion, alpha=alpha,
                weights=weights, candidates=candidates,
            )
            return rerank.rerank(text, first, k=k, blend=blend)
        stored = self.store.spaces()
        if stored and mode is not SearchMode.BM25:  # BM25 reads no vectors: no model to check (or load)
            check_specs(self.store.collection, stored, self.spaces.specs())
        vectors = {} if mode is SearchMode.BM25 else self.spaces.embed_query(text or None, image)
        if weights is not None:
            if len(weights) != 2:
                raise InvalidArgument(f"weights are (dense, bm25), got {list(weights)}")
            fusion = Fusion.WEIGHTED
        options = {"weights": (float(weights[0]), float(weights[1]))} if weights is not None else {}
        request = SearchRequest(
            text, vectors, k=k, mode=mode, filters=filters, fusion=fusion, alpha=alpha, candidates=candidates, **options
        )
        return self.run(request)

    def run(self, request: SearchRequest) -> list[Hit]:
        """Run a prepared request: the store's hits, with a page render and its own
        page's text counted once (fetched deeper so ``k`` hits still come back)."""
        deeper = replace(request, k=request.k * 2)
        return collapse_page_renders(self.store.search(deeper))[: request.k]

    def vectors(self, ids: Sequence[str], space: str | None = None) -> dict[str, np.ndarray]:
        """The stored vectors of chunks by id (missing ids left out), in ``space``:
        by default the collection's only space. For diversity re-ranking (MMR)
        over what the store holds, without embedding the chunks again."""
        specs = self.spaces.specs()
        if space is None:
            if len(specs) != 1:
                raise InvalidArgument(f"this collection has several embedding spaces ({', '.join(specs)}); name one")
            (space,) = specs
        elif space not in specs:
            raise InvalidArgument(f"no embedding space {space!r}; this collection has {', '.join(specs)}")
        return self.store.vectors(ids, space)

    def info(self) -> list[CollectionInfo]:
        """Collections at the store's location with row counts and their models."""
        return self.store.info()

    def close(self) -> None:
        self.store.close()
