"""Writes to a Milvus collection, all-or-nothing per source.

Token vectors (token rows, or the Lite sidecar file) are written under a fresh
generation tag, then chunk rows (which point at that tag); only after every batch succeeded are the rows they replace
removed. On a failure the new rows are deleted and overwritten rows restored
from a snapshot.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import numpy as np

from mmrag.embedding.base import batched
from mmrag.errors import StoreError
from mmrag.stores.milvus.filters import literal
from mmrag.stores.late import check_write, pool_tokens
from mmrag.stores.milvus.collection import MilvusCollection
from mmrag.stores.milvus.late import NativeLate, token_rows
from mmrag.stores.milvus.rows import (
    IDS_PER_EXPR,
    OUTPUT_FIELDS,
    TOKEN_BATCH_ROWS,
    chunk_to_row,
    dense_field,
    fde_field,
    ID_KEY,
    ids_expr,
    is_hashed,
    plan_batches,
    row_bytes,
    row_key,
    token_collection,
)
from mmrag.types import Chunk

try:
    import pymilvus
except ImportError:  # pragma: no cover - exercised by the no-extras test run
    pymilvus = None

T = TypeVar("T")


class MilvusWriter(MilvusCollection):
    """Chunk and token rows in, stale ones out."""

    def chunk_ids(self, doc_id: str) -> set[str]:
        return self.chunk_ids_of([doc_id]).get(doc_id, set())

    def chunk_ids_of(self, doc_ids: Sequence[str]) -> dict[str, set[str]]:
        if not self.spaces():
            return {}
        out: dict[str, set[str]] = {}
        for part in batched(list(dict.fromkeys(doc_ids)), IDS_PER_EXPR):
            doc_of = {row_key(d): d for d in part}
            rows = self._query_all(self.collection, ids_expr("doc_id", part), ["id", "doc_id"])
            ids = self._caller_ids([r["id"] for r in rows])
            for row in rows:
                out.setdefault(doc_of[row["doc_id"]], set()).add(ids[row["id"]])
        return out

    def _caller_ids(self, keys: Sequence[str]) -> dict[str, str]:
        """The caller's chunk id of each stored key (read back only for hashed keys)."""
        out = {k: k for k in keys}
        hashed = [k for k in keys if is_hashed(k)]
        for part in batched(hashed, IDS_PER_EXPR):
            for row in self.client.get(self.collection, ids=list(part), output_fields=["id", "metadata"]):
                out[row["id"]] = row["metadata"][ID_KEY]
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
        if self._sidecar is not None:
            kept = before - set(stale) - set(written)
            self._sidecar.settle(row_key(doc_id), gen, {row_key(i) for i in kept})
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
            # Tokens go in before the chunk rows that point at them (a crash in between
            # leaves only tokens no row points at, removed with their source).
            for space in self._multi():
                if self._sidecar is not None:
                    rows = ((row_key(c.id), row_key(c.doc_id), v) for c, v in zip(chunks, vectors[space]))
                    self._sidecar.put(space, rows, gen)
                elif self._layout == "companion":
                    self._write_tokens(space, chunks, vectors[space], gen)
            # New ids are inserted; only ids already stored are upserted (an upsert
            # leaves a delete marker behind that every later search has to skip).
            order = sorted(range(len(chunks)), key=lambda i: chunks[i].id in before)
            rows = [self._row(chunks[i], vectors, i, gen) for i in order]
            for batch in plan_batches([row_bytes(r) for r in rows], self.batch_bytes):
                part = [rows[i] for i in batch]
                ids = [chunks[order[i]].id for i in batch]
                write = self.client.upsert if ids[0] in before else self.client.insert
                if ids[0] not in before and ids[-1] in before:  # a batch straddling both kinds
                    write = self.client.upsert
                self._retry(lambda w=write, p=part: w(self.collection, p))
                written.extend(ids)
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
        for space, encoder in self._fde.items():
            row[fde_field(space)] = encoder.encode_document(vectors[space][i]).tolist()
        if self._layout == "native":
            for space in self._multi():
                row.update(NativeLate.row_value(space, vectors[space][i]))
        return row

    def _write_tokens(self, space: str, chunks: Sequence[Chunk], tokens: Sequence[Any], gen: str) -> None:
        rows = token_rows(chunks, tokens, gen, self.tokens_per_row)
        name = token_collection(self.collection, space)
        size = 96 + 4 * (self._spaces or {})[space].dim * self.tokens_per_row
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
        fields += [fde_field(s) for s in self._fde]
        if self._layout == "native":
            fields += [NativeLate.field(s) for s in self._multi()]
        rows: list[dict[str, Any]] = []
        for part in batched(list(ids), IDS_PER_EXPR):
            rows.extend(self.client.get(self.collection, ids=[row_key(i) for i in part], output_fields=fields))
        return [{k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in r.items()} for r in rows]

    def _rollback(self, before: set[str], written: list[str], snapshot: list[dict[str, Any]], gen: str) -> None:
        fresh = [i for i in written if i not in before]
        for part in batched(fresh, IDS_PER_EXPR):
            self._retry(lambda p=part: self.client.delete(self.collection, ids=[row_key(i) for i in p]))
        for batch in plan_batches([row_bytes(r) for r in snapshot], self.batch_bytes):
            self._retry(lambda b=batch: self.client.upsert(self.collection, [snapshot[i] for i in b]))
        for name in self._token_collections():
            self._retry(lambda n=name: self.client.delete(n, filter=f"gen == {literal(gen, 'gen')}"))
        if self._sidecar is not None:
            self._sidecar.drop_gen(gen)

    def _delete_rows(self, ids: Sequence[str]) -> None:
        """Chunk rows first, then their token rows: a crash in between leaves only
        unreachable token rows, never a chunk without its tokens."""
        for part in batched(list(ids), IDS_PER_EXPR):
            self.client.delete(self.collection, ids=[row_key(i) for i in part])
            for name in self._token_collections():
                self.client.delete(name, filter=ids_expr("chunk_id", part))
            if self._sidecar is not None:
                self._sidecar.delete_chunks([row_key(i) for i in part])

    def delete(self, ids: Sequence[str]) -> int:
        if not ids or not self.spaces():
            return 0
        asked = {row_key(i): i for i in ids}
        found = [asked[r["id"]] for r in self.client.get(self.collection, ids=list(asked), output_fields=["id"])]
        self._delete_rows(found)
        return len(found)

    def delete_source(self, doc_id: str) -> int:
        ids = sorted(self.chunk_ids(doc_id))
        self._delete_rows(ids)
        if self._sidecar is not None:
            self._sidecar.delete_docs([row_key(doc_id)])
        return len(ids)
