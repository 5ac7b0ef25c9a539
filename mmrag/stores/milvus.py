"""Milvus store: Milvus Lite file by default, a server or cluster by URI, same code.

Schema: one row per chunk with scalar location fields, the text with an
analyzer, a dense vector per embedding space, and a sparse vector that Milvus'
built-in BM25 function fills from ``content`` (the context header + text).

Late interaction (a multi-vector space such as ColPali/ColBERT): the chunk row
holds the pooled vector (normalised token mean) in the space's dense field, and
the token/patch vectors live one per row in a companion collection
``<collection>__tok_<space>`` (Milvus Lite has no array-of-vector fields);
``tokens_per_row=B`` packs B consecutive token vectors into one row instead,
which reads back ~B times fewer rows (Lite returns rows one by one, so reading
the candidates' tokens dominates a late search) at the cost of ANN over tokens. On a
Milvus server >= 2.6.4 a collection is instead created with an array-of-structs
field searched natively with ``MAX_SIM_IP`` (see ``_NativeLate``); which layout
a collection uses is recorded in it, so reopening never guesses.

Writes are all-or-nothing per source: token rows are written under a fresh
generation tag, then chunk rows (which point at that tag); only after every
batch succeeded are the rows they replace removed. On a failure the new rows
are deleted and overwritten rows restored from a snapshot.
"""

from __future__ import annotations

import dataclasses
import json
import re
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from mmrag.embedding.base import EmbedderSpec, batched
from mmrag.errors import MissingDependencyError, StoreError
from mmrag.retrieval.adaptive import fuse_hits
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
from mmrag.stores.filters import literal, to_milvus_filter
from mmrag.stores.late import check_write, dense_query, pool_tokens, rerank_maxsim
from mmrag.types import Chunk, Hit, ImageRef, Modality

try:
    import pymilvus
except ImportError:  # pragma: no cover - exercised by the no-extras test run
    pymilvus = None

T = TypeVar("T")

SPACES_PROPERTY = "mmrag.spaces"
LAYOUT_PROPERTY = "mmrag.late_layout"
TOKENS_PER_ROW_PROPERTY = "mmrag.tokens_per_row"
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
BATCH_BYTES = 16 * 1024 * 1024  # a quarter of Milvus' default 64 MB gRPC message limit
BATCH_ROWS = 1000
TOKEN_BATCH_ROWS = 8192
QUERY_PAGE = 16384  # Milvus' largest query window
IDS_PER_EXPR = 1000  # ids per `in [...]` expression: keeps expressions far below Milvus' length limit
RETRIES = 2  # extra attempts for a batch that failed on the server side
NATIVE_LATE_MIN_VERSION = (2, 6, 4)
MAX_NATIVE_TOKENS = 4096  # an array-of-structs field's largest capacity


def dense_field(space: str) -> str:
    return f"dense_{space}"


def token_collection(collection: str, space: str) -> str:
    """The companion collection holding the token vectors of a multi-vector space."""
    return f"{collection}__tok_{space}"


def _clip(text: str, limit: int = MAX_VARCHAR) -> str:
    """``text`` cut to at most ``limit`` UTF-8 bytes (Milvus counts bytes)."""
    data = text.encode("utf-8")
    return text if len(data) <= limit else data[:limit].decode("utf-8", errors="ignore")


def chunk_to_row(chunk: Chunk, vectors: Mapping[str, np.ndarray]) -> dict[str, Any]:
    """A chunk row; ``vectors`` holds one ``(dim,)`` vector per space (pooled for multi-vector spaces)."""
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


def row_bytes(row: Mapping[str, Any]) -> int:
    """A generous estimate of a row's size on the wire (strings as UTF-8, floats as 4 bytes)."""
    size = 64
    for value in row.values():
        if isinstance(value, str):
            size += len(value.encode("utf-8"))
        elif isinstance(value, list):
            size += 4 * len(value) if not value or isinstance(value[0], float) else len(json.dumps(value))
        elif isinstance(value, dict):
            size += len(json.dumps(value))
        else:
            size += 8
    return size


def plan_batches(sizes: Sequence[int], max_bytes: int = BATCH_BYTES, max_rows: int = BATCH_ROWS) -> list[range]:
    """Consecutive index ranges whose summed ``sizes`` stay within ``max_bytes``
    and ``max_rows`` (a single row larger than ``max_bytes`` is a batch of its own)."""
    batches: list[range] = []
    start, used = 0, 0
    for i, size in enumerate(sizes):
        if i > start and (used + size > max_bytes or i - start >= max_rows):
            batches.append(range(start, i))
            start, used = i, 0
        used += size
    if start < len(sizes):
        batches.append(range(start, len(sizes)))
    return batches


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


def server_version(text: str) -> tuple[int, int, int] | None:
    """``(2, 6, 4)`` from ``"v2.6.4"`` or ``"2.6.4-rc1"``; ``None`` for Milvus Lite or an unreadable string."""
    if "lite" in text.lower():
        return None
    m = re.search(r"(\d+)\.(\d+)\.(\d+)", text)
    return (int(m[1]), int(m[2]), int(m[3])) if m else None


def ids_expr(field: str, ids: Sequence[str]) -> str:
    return f"{field} in [{', '.join(literal(i, field) for i in ids)}]"


class MilvusStore(VectorStore):
    """Chunks in a Milvus collection, searched by dense, BM25, hybrid or late interaction.

    Example::

        store = MilvusStore("mmrag.db", collection="docs")  # Milvus Lite file
        store = MilvusStore("http://milvus:19530", token="root:Milvus")  # server
        store.ensure_collection({"text": embedder.spec()})
        hits = store.search(SearchRequest("query", {"text": qvec}, k=5))
        # late interaction: a multi-vector space, an (n_tokens, dim) query
        hits = store.search(SearchRequest("query", {"pages": qtokens}, mode="late", candidates=100))
    """

    def __init__(
        self,
        uri: str = "mmrag.db",
        collection: str = "mmrag",
        *,
        token: str | None = None,
        retries: int = RETRIES,
        batch_bytes: int = BATCH_BYTES,
        tokens_per_row: int = 1,
    ) -> None:
        if pymilvus is None:
            raise MissingDependencyError("pymilvus", "milvus", "The Milvus store")
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,200}", collection):
            raise StoreError(f"invalid collection name {collection!r}: use letters, digits and _ (start with a letter)")
        self.uri, self.is_lite = parse_uri(uri)
        if self.is_lite:
            self.local_path = Path(self.uri).expanduser().resolve()
            self.local_path.parent.mkdir(parents=True, exist_ok=True)
        self.collection = collection
        self.retries = retries
        self.batch_bytes = batch_bytes
        if not 1 <= tokens_per_row <= 256:
            raise StoreError(f"tokens_per_row must be in 1..256, got {tokens_per_row}")
        self.tokens_per_row = tokens_per_row
        # Milvus Lite serves gRPC in-process with gRPC's default ping policy, which
        # answers pymilvus' idle keepalive pings (every 10 s) with GOAWAY
        # "too_many_pings"; a client idle for a while (e.g. while a pipeline loads
        # models) then fails to reconnect. A local server needs no keepalive.
        options = {"grpc.keepalive_permit_without_calls": 0, "grpc.keepalive_time_ms": 3_600_000} if self.is_lite else {}
        self.client = pymilvus.MilvusClient(uri=self.uri, token=token or "", grpc_options=options)
        self._spaces: dict[str, EmbedderSpec] | None = None
        self._layout = "companion"

    # -- collection ---------------------------------------------------------
    def spaces(self) -> dict[str, EmbedderSpec]:
        if self._spaces is None:
            if not self.client.has_collection(self.collection):
                return {}
            self._spaces = self._read_spaces(self.collection)
            props = self.client.describe_collection(self.collection).get("properties", {})
            self._layout = props.get(LAYOUT_PROPERTY, "companion")
            self.tokens_per_row = int(props.get(TOKENS_PER_ROW_PROPERTY, 1))
            for name in [self.collection, *self._token_collections()]:
                self.client.load_collection(name)
        return dict(self._spaces)

    def _read_spaces(self, name: str) -> dict[str, EmbedderSpec]:
        props = self.client.describe_collection(name).get("properties", {})
        raw = props.get(SPACES_PROPERTY)
        if raw is None:
            raise StoreError(f"collection '{name}' was not made by mmrag (no {SPACES_PROPERTY} property)")
        return {space: EmbedderSpec.from_json(spec) for space, spec in json.loads(raw).items()}

    def _multi(self) -> list[str]:
        return [s for s, spec in (self._spaces or {}).items() if spec.multivector]

    def _token_collections(self) -> list[str]:
        if self._layout != "companion":
            return []
        return [token_collection(self.collection, s) for s in self._multi()]

    def supports_native_late(self) -> bool:
        """True on a Milvus server >= 2.6.4 with a pymilvus that can declare arrays of structs;
        read from the server's reported version, never assumed."""
        if self.is_lite or not hasattr(pymilvus.DataType, "STRUCT"):
            return False
        version = server_version(str(self.client.get_server_version()))
        return version is not None and version >= NATIVE_LATE_MIN_VERSION

    def ensure_collection(self, spaces: Mapping[str, EmbedderSpec]) -> None:
        stored = self.spaces()
        if stored:
            check_specs(self.collection, stored, spaces)
            return
        for space in spaces:
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,40}", space):
                raise StoreError(f"invalid space name {space!r}: use letters, digits and _")
        multi = any(spec.multivector for spec in spaces.values())
        self._layout = "native" if multi and self.supports_native_late() else "companion"
        self._create(spaces)
        self._spaces = dict(spaces)
        for name in [self.collection, *self._token_collections()]:
            self.client.load_collection(name)

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
        schema.add_field("late_gen", DataType.VARCHAR, max_length=32)  # which token rows belong to this chunk row
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
            schema.add_field(dense_field(space), DataType.FLOAT_VECTOR, dim=spec.dim)
            index.add_index(dense_field(space), index_type="AUTOINDEX", metric_type="COSINE")
            if spec.multivector and self._layout == "native":
                _NativeLate.add_field(self.client, schema, index, space, spec.dim)
        index.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
        index.add_index("doc_id", index_type="INVERTED")
        props = {
            SPACES_PROPERTY: json.dumps({s: spec.to_json() for s, spec in spaces.items()}),
            LAYOUT_PROPERTY: self._layout,
            TOKENS_PER_ROW_PROPERTY: str(self.tokens_per_row),
        }
        self.client.create_collection(
            self.collection, schema=schema, index_params=index, consistency_level="Strong", properties=props
        )
        if self._layout == "companion":
            for space, spec in spaces.items():
                if spec.multivector:
                    self._create_token_collection(space, spec.dim)

    def _create_token_collection(self, space: str, dim: int) -> None:
        DataType = pymilvus.DataType
        schema = self.client.create_schema(auto_id=True, enable_dynamic_field=False)
        schema.add_field("pk", DataType.INT64, is_primary=True)
        schema.add_field("chunk_id", DataType.VARCHAR, max_length=64)
        schema.add_field("doc_id", DataType.VARCHAR, max_length=64)
        schema.add_field("gen", DataType.VARCHAR, max_length=32)
        schema.add_field("n", DataType.INT64)  # how many of the row's token slots are used
        schema.add_field("vec", DataType.FLOAT_VECTOR, dim=dim * self.tokens_per_row)
        index = self.client.prepare_index_params()
        index.add_index("vec", index_type="AUTOINDEX", metric_type="IP")
        index.add_index("chunk_id", index_type="INVERTED")
        self.client.create_collection(
            token_collection(self.collection, space), schema=schema, index_params=index, consistency_level="Strong"
        )

    # -- writes -------------------------------------------------------------
    def chunk_ids(self, doc_id: str) -> set[str]:
        return self.chunk_ids_of([doc_id]).get(doc_id, set())

    def chunk_ids_of(self, doc_ids: Sequence[str]) -> dict[str, set[str]]:
        if not self.spaces():
            return {}
        out: dict[str, set[str]] = {}
        for part in batched(list(dict.fromkeys(doc_ids)), IDS_PER_EXPR):
            for row in self._query_all(self.collection, ids_expr("doc_id", part), ["id", "doc_id"]):
                out.setdefault(row["doc_id"], set()).add(row["id"])
        return out

    def write_source(
        self, doc_id: str, chunks: Sequence[Chunk], vectors: Mapping[str, Any], keep: set[str]
    ) -> None:
        if any(c.doc_id != doc_id for c in chunks):
            raise StoreError(f"write_source({doc_id!r}) got chunks of another source")
        before = self.chunk_ids(doc_id)
        written, gen = self._write(chunks, vectors, before, chunks[0].source if chunks else doc_id)
        stale = sorted(before - keep - set(written))
        self._delete_rows(stale)
        if self._layout == "companion":
            replaced = sorted(set(written) & before)
            for space in self._multi():
                name = token_collection(self.collection, space)
                for part in batched(replaced, IDS_PER_EXPR):
                    self.client.delete(name, filter=f"{ids_expr('chunk_id', part)} and gen != {literal(gen, 'gen')}")

    def add_sources(self, chunks: Sequence[Chunk], vectors: Mapping[str, Any]) -> None:
        sources = len({c.doc_id for c in chunks})
        self._write(chunks, vectors, set(), f"{sources} sources")

    def _write(
        self, chunks: Sequence[Chunk], vectors: Mapping[str, Any], before: set[str], where: str
    ) -> tuple[list[str], str]:
        """Insert ``chunks`` (upserting the ids in ``before``, which are already
        stored); on failure undo every row written and restore the replaced ones.
        Returns the ids written and the write's generation tag."""
        check_write(self.collection, self.spaces(), vectors, len(chunks))
        gen = uuid.uuid4().hex
        snapshot = self._snapshot([c.id for c in chunks if c.id in before])
        written: list[str] = []
        try:
            if self._layout == "companion":
                for space in self._multi():
                    self._write_tokens(space, chunks, vectors[space], gen)
            # New ids are inserted; only ids already stored are upserted (an upsert
            # leaves a delete marker behind that every later search has to skip).
            order = sorted(range(len(chunks)), key=lambda i: chunks[i].id in before)
            rows = [self._row(chunks[i], vectors, i, gen) for i in order]
            for batch in plan_batches([row_bytes(r) for r in rows], self.batch_bytes):
                part = [rows[i] for i in batch]
                write = self.client.upsert if part[0]["id"] in before else self.client.insert
                if part[0]["id"] not in before and part[-1]["id"] in before:  # a batch straddling both kinds
                    write = self.client.upsert
                self._retry(lambda w=write, p=part: w(self.collection, p))
                written.extend(r["id"] for r in part)
        except Exception as exc:
            try:
                self._rollback(before, written, snapshot, gen)
            except Exception as undo_exc:
                raise StoreError(
                    f"writing {where} failed ({exc}) and so did undoing it ({undo_exc}); "
                    f"delete the source (mmrag delete --source) and ingest it again"
                ) from exc
            raise StoreError(f"writing {len(chunks)} chunks of {where} failed, nothing changed: {exc}") from exc
        return written, gen

    def _row(self, chunk: Chunk, vectors: Mapping[str, Any], i: int, gen: str) -> dict[str, Any]:
        stored = self._spaces or {}
        pooled = {s: pool_tokens(v[i]) if stored[s].multivector else v[i] for s, v in vectors.items()}
        row = chunk_to_row(chunk, pooled)
        row["late_gen"] = gen
        if self._layout == "native":
            for space in self._multi():
                row.update(_NativeLate.row_value(space, vectors[space][i]))
        return row

    def _write_tokens(self, space: str, chunks: Sequence[Chunk], tokens: Sequence[Any], gen: str) -> None:
        per_row = self.tokens_per_row
        rows = []
        for chunk, mat in zip(chunks, tokens):
            mat = np.asarray(mat, dtype=np.float32)
            for start in range(0, len(mat), per_row):
                block = mat[start : start + per_row]
                flat = np.zeros(per_row * mat.shape[1], dtype=np.float32)
                flat[: block.size] = block.ravel()
                rows.append({"chunk_id": chunk.id, "doc_id": chunk.doc_id, "gen": gen, "n": len(block), "vec": flat.tolist()})
        name = token_collection(self.collection, space)
        size = 96 + 4 * (self._spaces or {})[space].dim * per_row
        for batch in plan_batches([size] * len(rows), self.batch_bytes, TOKEN_BATCH_ROWS):
            self._retry(lambda b=batch: self.client.insert(name, rows[b.start : b.stop]))

    def _retry(self, call: Callable[[], T]) -> T:
        """Run ``call``, retrying a server-side failure ``self.retries`` times with backoff;
        a request the client itself rejects (wrong shape, bad parameter) is not retried."""
        for attempt in range(self.retries + 1):
            try:
                return call()
            except (pymilvus.exceptions.ParamError, pymilvus.exceptions.DataNotMatchException, TypeError, ValueError):
                raise
            except pymilvus.exceptions.MilvusException:
                if attempt == self.retries:
                    raise
                time.sleep(0.2 * 2**attempt)
        raise AssertionError("unreachable")

    def _snapshot(self, ids: Sequence[str]) -> list[dict[str, Any]]:
        """The stored rows (every field but the BM25 output) of ``ids``, to restore after a failed write."""
        if not ids:
            return []
        fields = [*OUTPUT_FIELDS, "content", "late_gen", *(dense_field(s) for s in self._spaces or {})]
        if self._layout == "native":
            fields += [_NativeLate.field(s) for s in self._multi()]
        rows: list[dict[str, Any]] = []
        for part in batched(list(ids), IDS_PER_EXPR):
            rows.extend(self.client.get(self.collection, ids=list(part), output_fields=fields))
        return [{k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in r.items()} for r in rows]

    def _rollback(self, before: set[str], written: list[str], snapshot: list[dict[str, Any]], gen: str) -> None:
        fresh = [i for i in written if i not in before]
        for part in batched(fresh, IDS_PER_EXPR):
            self._retry(lambda p=part: self.client.delete(self.collection, ids=list(p)))
        for batch in plan_batches([row_bytes(r) for r in snapshot], self.batch_bytes):
            self._retry(lambda b=batch: self.client.upsert(self.collection, [snapshot[i] for i in b]))
        for name in self._token_collections():
            self._retry(lambda n=name: self.client.delete(n, filter=f"gen == {literal(gen, 'gen')}"))

    def _delete_rows(self, ids: Sequence[str]) -> None:
        """Chunk rows first, then their token rows: a crash in between leaves only
        unreachable token rows, never a chunk without its tokens."""
        for part in batched(list(ids), IDS_PER_EXPR):
            self.client.delete(self.collection, ids=list(part))
            for name in self._token_collections():
                self.client.delete(name, filter=ids_expr("chunk_id", part))

    def delete(self, ids: Sequence[str]) -> int:
        if not ids or not self.spaces():
            return 0
        found = [r["id"] for r in self.client.get(self.collection, ids=list(dict.fromkeys(ids)), output_fields=["id"])]
        self._delete_rows(found)
        return len(found)

    def delete_source(self, doc_id: str) -> int:
        ids = sorted(self.chunk_ids(doc_id))
        self._delete_rows(ids)
        return len(ids)

    def get(self, ids: Sequence[str]) -> list[Chunk]:
        if not ids or not self.spaces():
            return []
        rows: dict[str, dict[str, Any]] = {}
        for part in batched(list(dict.fromkeys(ids)), IDS_PER_EXPR):
            rows.update({r["id"]: r for r in self.client.get(self.collection, ids=list(part), output_fields=OUTPUT_FIELDS)})
        return [row_to_chunk(rows[i]) for i in ids if i in rows]

    def _query_all(self, collection: str, expr: str, fields: list[str]) -> list[dict[str, Any]]:
        rows = self.client.query(collection, filter=expr, output_fields=fields, limit=QUERY_PAGE)
        if len(rows) < QUERY_PAGE:
            return rows
        # More rows than one query window: page through them with an iterator.
        iterator = self.client.query_iterator(collection, batch_size=QUERY_PAGE, filter=expr, output_fields=fields)
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
        pooled = {s: dense_query(s, stored[s], v) for s, v in request.vectors.items()}
        expr = to_milvus_filter(request.filters, FILTER_FIELDS)
        if request.mode is SearchMode.BM25 or (request.mode is SearchMode.HYBRID and request.alpha == 0.0):
            return self._bm25(request.text, expr, request.k)
        if request.mode is SearchMode.HYBRID and request.alpha == 1.0:
            request = dataclasses.replace(request, mode=SearchMode.DENSE)
        if request.mode is SearchMode.DENSE:
            if len(pooled) == 1:
                return self._dense(pooled, expr, request.k)
            return self._fused(pooled, "", expr, request.k, request.depth, request.rrf_k)
        if request.mode is SearchMode.LATE:
            return self._late(request, pooled, expr)
        if request.fusion is Fusion.RRF:
            return self._fused(pooled, request.text, expr, request.k, request.depth, request.rrf_k)
        if request.fusion is Fusion.ADAPTIVE:
            return fuse_hits(self.candidates(request), request.text, request.k)
        return self._hybrid_weighted(request, pooled, expr)

    def _hits(self, rows: Sequence[Mapping[str, Any]], key: str, transform: Callable[[float], float] = float) -> list[Hit]:
        hits = []
        for r in rows:
            score = transform(float(r["distance"]))
            hits.append(Hit(row_to_chunk(r["entity"] | {"id": r["id"]}), score, {key: score}))
        return hits

    def _dense(self, pooled: Mapping[str, np.ndarray], expr: str, limit: int) -> list[Hit]:
        """Cosine hits per space, one hit per chunk (its best score), best first."""
        hits: list[Hit] = []
        for space, vec in pooled.items():
            res = self.client.search(
                self.collection,
                data=[vec.tolist()],
                anns_field=dense_field(space),
                limit=limit,
                filter=expr,
                output_fields=OUTPUT_FIELDS,
                search_params={"metric_type": "COSINE"},
            )[0]
            hits.extend(self._hits(res, "dense"))
        return _dedupe_best(hits)[:limit]

    def _bm25(self, text: str, expr: str, limit: int) -> list[Hit]:
        if not text.strip():
            return []
        res = self.client.search(
            self.collection,
            data=[text],
            anns_field="sparse",
            limit=limit,
            filter=expr,
            output_fields=OUTPUT_FIELDS,
            search_params={"metric_type": "BM25"},
        )[0]
        # BM25 scores are >= 0; Milvus Lite reports them negated, a server does not.
        return self._hits(res, "bm25", abs)

    def _fused(
        self, pooled: Mapping[str, np.ndarray], text: str, expr: str, limit: int, depth: int, rrf_k: int
    ) -> list[Hit]:
        return self._hits(self._fused_rows(pooled, text, expr, limit, depth, rrf_k), "rrf")

    def _fused_rows(
        self,
        pooled: Mapping[str, np.ndarray],
        text: str,
        expr: str,
        limit: int,
        depth: int,
        rrf_k: int,
        extra_fields: Sequence[str] = (),
    ) -> list[dict[str, Any]]:
        """Every dense space (and BM25 when there is text) in one ``hybrid_search``, fused by RRF."""
        reqs = [
            pymilvus.AnnSearchRequest(
                data=[vec.tolist()],
                anns_field=dense_field(space),
                param={"metric_type": "COSINE"},
                limit=depth,
                expr=expr or None,
            )
            for space, vec in pooled.items()
        ]
        if text.strip():
            reqs.append(
                pymilvus.AnnSearchRequest(
                    data=[text], anns_field="sparse", param={"metric_type": "BM25"}, limit=depth, expr=expr or None
                )
            )
        return self.client.hybrid_search(
            self.collection, reqs, pymilvus.RRFRanker(rrf_k), limit=limit, output_fields=[*OUTPUT_FIELDS, *extra_fields]
        )[0]

    def _hybrid_weighted(self, request: SearchRequest, pooled: Mapping[str, np.ndarray], expr: str) -> list[Hit]:
        # Fused here rather than by Milvus' WeightedRanker: Lite's negated BM25
        # distances break its normalisation, and here each hit keeps both scores.
        dense = {h.chunk.id: h for h in self._dense(pooled, expr, request.depth)}
        bm25 = {h.chunk.id: h for h in self._bm25(request.text, expr, request.depth)}
        fused = weighted(
            [{i: h.score for i, h in dense.items()}, {i: h.score for i, h in bm25.items()}], request.weights
        )
        ranked = sorted(fused, key=lambda i: -fused[i])[: request.k]
        hits = []
        for i in ranked:
            scores = {**(dense[i].scores if i in dense else {}), **(bm25[i].scores if i in bm25 else {}), "weighted": fused[i]}
            hits.append(Hit((dense.get(i) or bm25[i]).chunk, fused[i], scores))
        return hits

    def _late(self, request: SearchRequest, pooled: Mapping[str, np.ndarray], expr: str) -> list[Hit]:
        stored = self._spaces or {}
        queries = {s: np.asarray(v, dtype=np.float32) for s, v in request.vectors.items() if stored[s].multivector}
        if not queries:
            raise StoreError(f"late search needs a query in a multi-vector space; this collection's are: {self._multi() or 'none'}")
        if self._layout == "native":
            return _NativeLate.search(self.client, self.collection, queries, expr, request.k)
        rows = self._fused_rows(pooled, request.text, expr, request.depth, request.depth, request.rrf_k, ["late_gen"])
        first = self._hits(rows, "rrf")
        gens = {r["id"]: r["entity"]["late_gen"] for r in rows}
        tokens = {s: self._tokens(s, gens) for s in queries}
        return rerank_maxsim(first, queries, tokens, request.k)

    def _tokens(self, space: str, gens: Mapping[str, str]) -> dict[str, np.ndarray]:
        """The stored token vectors of these chunks (only rows of each chunk's current generation)."""
        name = token_collection(self.collection, space)
        dim = (self._spaces or {})[space].dim
        found: dict[str, list[np.ndarray]] = {}
        for part in batched(list(gens), IDS_PER_EXPR):
            for row in self._query_all(name, ids_expr("chunk_id", part), ["chunk_id", "gen", "n", "vec"]):
                if row["gen"] == gens[row["chunk_id"]]:
                    block = np.asarray(row["vec"], dtype=np.float32).reshape(-1, dim)[: row["n"]]
                    found.setdefault(row["chunk_id"], []).append(block)
        return {cid: np.concatenate(blocks) for cid, blocks in found.items()}

    def candidates(self, request: SearchRequest) -> dict[str, list[Hit]]:
        """Each retriever's own best-first list, ``request.depth`` deep, with its raw
        scores (``dense``: cosine, ``bm25``): the input of client-side fusion."""
        stored = self.spaces()
        pooled = {s: dense_query(s, stored[s], v) for s, v in request.vectors.items()}
        expr = to_milvus_filter(request.filters, FILTER_FIELDS)
        return {"dense": self._dense(pooled, expr, request.depth), "bm25": self._bm25(request.text, expr, request.depth)}

    def sources(self) -> list[SourceInfo]:
        if not self.spaces():
            return []
        counts: dict[str, list[Any]] = {}
        for row in self._query_all(self.collection, "", ["doc_id", "source"]):
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

    def flush(self) -> None:
        # Every insert call leaves a small growing segment that each search scans
        # one by one (on Lite 1,500 rows in 15 writes searched ~5x slower than
        # after this); sealing and compacting turns them into a few indexed ones.
        if not self.spaces():
            return
        for name in [self.collection, *self._token_collections()]:
            self.client.flush(name)
            self.client.compact(name)

    def close(self) -> None:
        self.client.close()


class _NativeLate:
    """Late interaction on a Milvus server >= 2.6.4: token vectors in an
    array-of-structs field searched with ``MAX_SIM_IP`` (exact MaxSim is the
    sum of best inner products). Chosen only when the server reports such a
    version; not exercised by the test suite, which runs on Milvus Lite."""

    @staticmethod
    def field(space: str) -> str:
        return f"tok_{space}"

    @staticmethod
    def add_field(client: Any, schema: Any, index: Any, space: str, dim: int) -> None:
        struct = client.create_struct_field_schema()
        struct.add_field("vec", pymilvus.DataType.FLOAT_VECTOR, dim=dim)
        schema.add_field(
            _NativeLate.field(space), pymilvus.DataType.ARRAY, element_type=pymilvus.DataType.STRUCT,
            struct_schema=struct, max_capacity=MAX_NATIVE_TOKENS,
        )
        index.add_index(f"{_NativeLate.field(space)}[vec]", index_type="HNSW", metric_type="MAX_SIM_IP",
                        params={"M": 16, "efConstruction": 200})

    @staticmethod
    def row_value(space: str, tokens: np.ndarray) -> dict[str, Any]:
        tokens = np.asarray(tokens, dtype=np.float32)
        if len(tokens) > MAX_NATIVE_TOKENS:
            raise StoreError(f"space '{space}': {len(tokens)} token vectors exceed Milvus' {MAX_NATIVE_TOKENS} per chunk")
        return {_NativeLate.field(space): [{"vec": v} for v in tokens.tolist()]}

    @staticmethod
    def search(client: Any, collection: str, queries: Mapping[str, np.ndarray], expr: str, k: int) -> list[Hit]:
        from pymilvus.client.embedding_list import EmbeddingList

        if len(queries) != 1:
            raise StoreError("native late interaction searches one multi-vector space at a time")
        (space, query), = queries.items()
        res = client.search(
            collection, data=[EmbeddingList(query)], anns_field=f"{_NativeLate.field(space)}[vec]", limit=k,
            filter=expr, output_fields=OUTPUT_FIELDS, search_params={"metric_type": "MAX_SIM_IP"},
        )[0]
        return [Hit(row_to_chunk(r["entity"] | {"id": r["id"]}), float(r["distance"]), {"maxsim": float(r["distance"])}) for r in res]


def _dedupe_best(hits: list[Hit]) -> list[Hit]:
    """One hit per chunk (its best score), best first."""
    best: dict[str, Hit] = {}
    for h in hits:
        if h.chunk.id not in best or h.score > best[h.chunk.id].score:
            best[h.chunk.id] = h
    return sorted(best.values(), key=lambda h: -h.score)

