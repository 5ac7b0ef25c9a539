"""Milvus store: Milvus Lite file by default, a server or cluster by URI, same code.

Schema: one row per chunk with scalar location fields, the text with an
analyzer, a dense vector per embedding space, and a sparse vector that Milvus'
built-in BM25 function fills from ``content`` (the context header + text).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mmrag.embedding.base import EmbedderSpec, batched
from mmrag.errors import MissingDependencyError, StoreError
from mmrag.retrieval.fusion import weighted
from mmrag.stores.base import (
    CollectionInfo,
    Fusion,
    SearchMode,
    SearchRequest,
    SourceInfo,
    VectorStore,
    check_specs,
)
from mmrag.stores.filters import to_milvus_filter
from mmrag.types import Chunk, Hit, ImageRef, Modality

try:
    import pymilvus
except ImportError:  # pragma: no cover - exercised by the no-extras test run
    pymilvus = None

SPACES_PROPERTY = "mmrag.spaces"
FILTER_FIELDS = {
    "id": "id",
    "chunk_id": "id",
    "doc_id": "doc_id",
    "source": "source",
    "modality": "modality",
    "page": "page",
    "slide": "slide",
    "start": "t_start",
    "end": "t_end",
}
OUTPUT_FIELDS = ["id", "doc_id", "source", "modality", "page", "slide", "t_start", "t_end", "text", "context", "image", "metadata"]
MAX_VARCHAR = 65535
BATCH_ROWS = 256  # keeps an insert far below Milvus' 64 MB gRPC message limit
QUERY_PAGE = 16384  # Milvus' largest query window


def dense_field(space: str) -> str:
    return f"dense_{space}"


def _clip(text: str, limit: int = MAX_VARCHAR) -> str:
    """``text`` cut to at most ``limit`` UTF-8 bytes (Milvus counts bytes)."""
    data = text.encode("utf-8")
    return text if len(data) <= limit else data[:limit].decode("utf-8", errors="ignore")


def chunk_to_row(chunk: Chunk, vectors: Mapping[str, np.ndarray]) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": chunk.id,
        "doc_id": chunk.doc_id,
        "source": _clip(chunk.source, 4096),
        "modality": chunk.modality.value,
        "page": chunk.page,
        "slide": chunk.slide,
        "t_start": chunk.start,
        "t_end": chunk.end,
        "text": _clip(chunk.text),
        "context": _clip(chunk.context, 4096),
        "content": _clip(chunk.embed_text),
        "image": chunk.image.to_dict() if chunk.image else None,
        "metadata": dict(chunk.metadata),
    }
    for space, vec in vectors.items():
        row[dense_field(space)] = np.asarray(vec, dtype=np.float32).tolist()
    return row


def row_to_chunk(row: Mapping[str, Any]) -> Chunk:
    return Chunk(
        id=row["id"],
        doc_id=row["doc_id"],
        source=row["source"],
        modality=Modality(row["modality"]),
        text=row["text"],
        context=row.get("context") or "",
        image=ImageRef.from_dict(row["image"]) if row.get("image") else None,
        page=row.get("page"),
        slide=row.get("slide"),
        start=row.get("t_start"),
        end=row.get("t_end"),
        metadata=row.get("metadata") or {},
    )


def parse_uri(uri: str) -> tuple[str, bool]:
    """``(uri for MilvusClient, is_lite)``: a ``*.db`` path or ``milvus:///path.db``
    is a Milvus Lite file; ``milvus://host:port`` and ``http(s)://`` are servers."""
    if uri.startswith("milvus:///"):
        return uri[len("milvus://") :], True
    if uri.startswith("milvus://"):
        return "http://" + uri[len("milvus://") :], False
    if uri.startswith(("http://", "https://", "tcp://", "unix:")):
        return uri, False
    if uri.endswith(".db"):
        return uri, True
    raise StoreError(
        f"unrecognised Milvus URI {uri!r}: use a path ending in .db (Milvus Lite), "
        "milvus:///path.db, milvus://host:19530 or http(s)://host:port"
    )


class MilvusStore(VectorStore):
    """Chunks in a Milvus collection, searched by dense, BM25 or hybrid.

    Example::

        store = MilvusStore("mmrag.db", collection="docs")  # Milvus Lite file
        store = MilvusStore("http://milvus:19530", token="root:Milvus")  # server
        store.ensure_collection({"text": embedder.spec()})
        hits = store.search(SearchRequest("query", {"text": qvec}, k=5))
    """

    def __init__(self, uri: str = "mmrag.db", collection: str = "mmrag", *, token: str | None = None) -> None:
        if pymilvus is None:
            raise MissingDependencyError("pymilvus", "milvus", "The Milvus store")
        self.uri, self.is_lite = parse_uri(uri)
        if self.is_lite:
            self.local_path = Path(self.uri).expanduser().resolve()
            self.local_path.parent.mkdir(parents=True, exist_ok=True)
        self.collection = collection
        # Milvus Lite serves gRPC in-process with gRPC's default ping policy, which
        # answers pymilvus' idle keepalive pings (every 10 s) with GOAWAY
        # "too_many_pings"; a client idle for a while (e.g. while a pipeline loads
        # models) then fails to reconnect. A local server needs no keepalive.
        options = {"grpc.keepalive_permit_without_calls": 0, "grpc.keepalive_time_ms": 3_600_000} if self.is_lite else {}
        self.client = pymilvus.MilvusClient(uri=self.uri, token=token or "", grpc_options=options)
        self._spaces: dict[str, EmbedderSpec] | None = None

    # -- collection ---------------------------------------------------------
    def spaces(self) -> dict[str, EmbedderSpec]:
        if self._spaces is None:
            if not self.client.has_collection(self.collection):
                return {}
            self._spaces = self._read_spaces(self.collection)
            self.client.load_collection(self.collection)
        return dict(self._spaces)

    def _read_spaces(self, name: str) -> dict[str, EmbedderSpec]:
        props = self.client.describe_collection(name).get("properties", {})
        raw = props.get(SPACES_PROPERTY)
        if raw is None:
            raise StoreError(f"collection '{name}' was not made by mmrag (no {SPACES_PROPERTY} property)")
        return {space: EmbedderSpec.from_json(spec) for space, spec in json.loads(raw).items()}

    def ensure_collection(self, spaces: Mapping[str, EmbedderSpec]) -> None:
        stored = self.spaces()
        if stored:
            check_specs(self.collection, stored, spaces)
            return
        self._create(spaces)
        self._spaces = dict(spaces)
        self.client.load_collection(self.collection)

    def _create(self, spaces: Mapping[str, EmbedderSpec]) -> None:
        DataType = pymilvus.DataType
        schema = self.client.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=64)
        schema.add_field("doc_id", DataType.VARCHAR, max_length=64)
        schema.add_field("source", DataType.VARCHAR, max_length=4096)
        schema.add_field("modality", DataType.VARCHAR, max_length=32)
        schema.add_field("page", DataType.INT64, nullable=True)
        schema.add_field("slide", DataType.INT64, nullable=True)
        schema.add_field("t_start", DataType.DOUBLE, nullable=True)
        schema.add_field("t_end", DataType.DOUBLE, nullable=True)
        schema.add_field("text", DataType.VARCHAR, max_length=MAX_VARCHAR)
        schema.add_field("context", DataType.VARCHAR, max_length=4096)
        schema.add_field("content", DataType.VARCHAR, max_length=MAX_VARCHAR, enable_analyzer=True)
        schema.add_field("image", DataType.JSON, nullable=True)
        schema.add_field("metadata", DataType.JSON)
        schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        schema.add_function(
            pymilvus.Function(
                name="bm25",
                function_type=pymilvus.FunctionType.BM25,
                input_field_names=["content"],
                output_field_names=["sparse"],
            )
        )
        index = self.client.prepare_index_params()
        for space, spec in spaces.items():
            if spec.multivector:
                raise StoreError(f"space '{space}': multi-vector embedders need the late-interaction store")
            schema.add_field(dense_field(space), DataType.FLOAT_VECTOR, dim=spec.dim)
            index.add_index(dense_field(space), index_type="AUTOINDEX", metric_type="COSINE")
        index.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
        index.add_index("doc_id", index_type="INVERTED")
        props = {SPACES_PROPERTY: json.dumps({s: spec.to_json() for s, spec in spaces.items()})}
        self.client.create_collection(
            self.collection, schema=schema, index_params=index, consistency_level="Strong", properties=props
        )

    # -- writes -------------------------------------------------------------
    def chunk_ids(self, doc_id: str) -> set[str]:
        if not self.spaces():
            return set()
        expr = to_milvus_filter({"doc_id": doc_id}, FILTER_FIELDS)
        return {row["id"] for row in self._query_all(expr, ["id"])}

    def write_source(
        self, doc_id: str, chunks: Sequence[Chunk], vectors: Mapping[str, np.ndarray], keep: set[str]
    ) -> None:
        for space, vecs in vectors.items():
            if len(vecs) != len(chunks):
                raise StoreError(f"space '{space}': {len(vecs)} vectors for {len(chunks)} chunks")
        if any(c.doc_id != doc_id for c in chunks):
            raise StoreError(f"write_source({doc_id!r}) got chunks of another source")
        before = self.chunk_ids(doc_id)
        written: list[str] = []
        try:
            for batch in batched(range(len(chunks)), BATCH_ROWS):
                rows = [chunk_to_row(chunks[i], {s: v[i] for s, v in vectors.items()}) for i in batch]
                self.client.upsert(self.collection, rows)
                written.extend(chunks[i].id for i in batch)
        except Exception as exc:
            # Undo: rows that did not exist before this call go away again.
            fresh = [i for i in written if i not in before]
            if fresh:
                self.client.delete(self.collection, ids=fresh)
            raise StoreError(f"writing {len(chunks)} chunks of {chunks[0].source} failed: {exc}") from exc
        stale = sorted(before - keep - set(written))
        for batch in batched(stale, BATCH_ROWS):
            self.client.delete(self.collection, ids=list(batch))

    def delete_source(self, doc_id: str) -> int:
        ids = sorted(self.chunk_ids(doc_id))
        for batch in batched(ids, BATCH_ROWS):
            self.client.delete(self.collection, ids=list(batch))
        return len(ids)

    def get(self, ids: Sequence[str]) -> list[Chunk]:
        if not ids or not self.spaces():
            return []
        rows = {r["id"]: r for r in self.client.get(self.collection, ids=list(ids), output_fields=OUTPUT_FIELDS)}
        return [row_to_chunk(rows[i]) for i in ids if i in rows]

    def _query_all(self, expr: str, fields: list[str]) -> list[dict[str, Any]]:
        rows = self.client.query(self.collection, filter=expr, output_fields=fields, limit=QUERY_PAGE)
        if len(rows) < QUERY_PAGE:
            return rows
        # More rows than one query window: page through them with an iterator.
        iterator = self.client.query_iterator(self.collection, batch_size=QUERY_PAGE, filter=expr, output_fields=fields)
        rows = []
        try:
            while page := iterator.next():
                rows.extend(page)
        finally:
            iterator.close()
        return rows

    # -- reads --------------------------------------------------------------
    def search(self, request: SearchRequest) -> list[Hit]:
        stored = self.spaces()
        if not stored:
            raise StoreError(f"collection '{self.collection}' does not exist at {self.uri}; ingest something first")
        for space in request.vectors:
            if space not in stored:
                raise StoreError(f"collection '{self.collection}' has no '{space}' space (it has: {', '.join(stored)})")
        expr = to_milvus_filter(request.filters, FILTER_FIELDS)
        if request.mode is SearchMode.DENSE:
            return self._dense(request, expr)[: request.k]
        if request.mode is SearchMode.BM25:
            return self._bm25(request, expr, request.k)
        if request.fusion is Fusion.RRF:
            return self._hybrid_rrf(request, expr)
        return self._hybrid_weighted(request, expr)

    def _dense(self, request: SearchRequest, expr: str, limit: int | None = None) -> list[Hit]:
        hits: list[Hit] = []
        for space, vec in request.vectors.items():
            res = self.client.search(
                self.collection,
                data=[np.asarray(vec, dtype=np.float32).tolist()],
                anns_field=dense_field(space),
                limit=limit or request.k,
                filter=expr,
                output_fields=OUTPUT_FIELDS,
                search_params={"metric_type": "COSINE"},
            )[0]
            hits.extend(Hit(row_to_chunk(r["entity"] | {"id": r["id"]}), float(r["distance"]), {"dense": float(r["distance"])}) for r in res)
        return _dedupe_best(hits)

    def _bm25(self, request: SearchRequest, expr: str, limit: int) -> list[Hit]:
        res = self.client.search(
            self.collection,
            data=[request.text],
            anns_field="sparse",
            limit=limit,
            filter=expr,
            output_fields=OUTPUT_FIELDS,
            search_params={"metric_type": "BM25"},
        )[0]
        # BM25 scores are >= 0; Milvus Lite reports them negated, a server does not.
        return [Hit(row_to_chunk(r["entity"] | {"id": r["id"]}), abs(float(r["distance"])), {"bm25": abs(float(r["distance"]))}) for r in res]

    def _hybrid_rrf(self, request: SearchRequest, expr: str) -> list[Hit]:
        reqs = [
            pymilvus.AnnSearchRequest(
                data=[np.asarray(vec, dtype=np.float32).tolist()],
                anns_field=dense_field(space),
                param={"metric_type": "COSINE"},
                limit=request.depth,
                expr=expr or None,
            )
            for space, vec in request.vectors.items()
        ]
        reqs.append(
            pymilvus.AnnSearchRequest(
                data=[request.text], anns_field="sparse", param={"metric_type": "BM25"}, limit=request.depth, expr=expr or None
            )
        )
        res = self.client.hybrid_search(
            self.collection, reqs, pymilvus.RRFRanker(request.rrf_k), limit=request.k, output_fields=OUTPUT_FIELDS
        )[0]
        return [Hit(row_to_chunk(r["entity"] | {"id": r["id"]}), float(r["distance"]), {"rrf": float(r["distance"])}) for r in res]

    def _hybrid_weighted(self, request: SearchRequest, expr: str) -> list[Hit]:
        # Fused here rather than by Milvus' WeightedRanker: Lite's negated BM25
        # distances break its normalisation, and here each hit keeps both scores.
        dense = {h.chunk.id: h for h in self._dense(request, expr, request.depth)}
        bm25 = {h.chunk.id: h for h in self._bm25(request, expr, request.depth)}
        fused = weighted(
            [{i: h.score for i, h in dense.items()}, {i: h.score for i, h in bm25.items()}], request.weights
        )
        ranked = sorted(fused, key=lambda i: -fused[i])[: request.k]
        hits = []
        for i in ranked:
            scores = {**(dense[i].scores if i in dense else {}), **(bm25[i].scores if i in bm25 else {}), "weighted": fused[i]}
            hits.append(Hit((dense.get(i) or bm25[i]).chunk, fused[i], scores))
        return hits

    def sources(self) -> list[SourceInfo]:
        if not self.spaces():
            return []
        counts: dict[str, list[Any]] = {}
        for row in self._query_all("", ["doc_id", "source"]):
            entry = counts.setdefault(row["doc_id"], [row["source"], 0])
            entry[1] += 1
        return sorted((SourceInfo(src, doc, n) for doc, (src, n) in counts.items()), key=lambda s: s.source)

    def info(self) -> list[CollectionInfo]:
        out = []
        for name in sorted(self.client.list_collections()):
            try:
                spaces = self._read_spaces(name)
            except StoreError:
                continue
            self.client.load_collection(name)
            rows = self.client.query(name, filter="", output_fields=["count(*)"])[0]["count(*)"]
            out.append(CollectionInfo(name, int(rows), spaces))
        return out

    def close(self) -> None:
        self.client.close()


def _dedupe_best(hits: list[Hit]) -> list[Hit]:
    """One hit per chunk (its best score), best first."""
    best: dict[str, Hit] = {}
    for h in hits:
        if h.chunk.id not in best or h.score > best[h.chunk.id].score:
            best[h.chunk.id] = h
    return sorted(best.values(), key=lambda h: -h.score)
