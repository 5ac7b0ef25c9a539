"""Writes to a Weaviate collection, all-or-nothing per source: overwritten objects
are snapshotted first, and on a failed batch the new objects are deleted and the
snapshot restored."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mmrag.embedding.base import batched
from mmrag.errors import StoreError
from mmrag.stores.late import check_write
from mmrag.stores.weaviate.collection import PAGE, WeaviateCollection
from mmrag.stores.weaviate.objects import batch_errors, chunk_properties, object_uuid, object_vectors
from mmrag.types import Chunk

try:
    from weaviate.classes.query import Filter
except ImportError:  # pragma: no cover - exercised by the no-extras test run
    pass

BATCH_OBJECTS = 200


class WeaviateWriter(WeaviateCollection):
    """Chunk writes and deletes."""

    def chunk_ids(self, doc_id: str) -> set[str]:
        if not self.spaces():
            return set()
        objs = self._fetch(Filter.by_property("doc_id").equal(doc_id), ["chunk_id"])
        return {o.properties["chunk_id"] for o in objs}

    def write_source(
        self, doc_id: str, chunks: Sequence[Chunk], vectors: Mapping[str, Any], keep: set[str]
    ) -> None:
        from weaviate.classes.data import DataObject

        stored = self.spaces()
        check_write(self.collection, stored, vectors, len(chunks))
        if any(c.doc_id != doc_id for c in chunks):
            raise StoreError(f"write_source({doc_id!r}) got chunks of another source")
        self._ensure_meta(chunks)
        before = self.chunk_ids(doc_id)
        snapshot = self._snapshot([c.id for c in chunks if c.id in before])
        written: list[str] = []
        try:
            for part in batched(range(len(chunks)), BATCH_OBJECTS):
                objs = [DataObject(properties=chunk_properties(chunks[i]), uuid=object_uuid(chunks[i].id),
                                   vector=object_vectors(stored, vectors, i)) for i in part]
                result = self._handle().data.insert_many(objs)
                ok = [chunks[i].id for n, i in enumerate(part) if n not in result.errors]
                written.extend(ok)
                if result.errors:
                    reasons = batch_errors(result.errors, [chunks[i].id for i in part])
                    raise StoreError(f"{len(reasons)} object(s) failed: " + "; ".join(reasons[:5]))
        except Exception as exc:
            self._rollback(before, written, snapshot)
            where = chunks[0].source if chunks else doc_id
            raise StoreError(f"writing {len(chunks)} chunks of {where} failed, nothing changed: {exc}") from exc
        self.delete(sorted(before - keep - set(written)))

    def _snapshot(self, ids: Sequence[str]) -> list[Any]:
        out = []
        for part in batched(list(ids), PAGE):
            res = self._handle().query.fetch_objects_by_ids(
                [object_uuid(i) for i in part], limit=len(part), include_vector=True)
            out.extend(res.objects)
        return out

    def _rollback(self, before: set[str], written: list[str], snapshot: list[Any]) -> None:
        from weaviate.classes.data import DataObject

        self.delete([i for i in written if i not in before])
        for part in batched(snapshot, BATCH_OBJECTS):
            self._handle().data.insert_many(
                [DataObject(properties=o.properties, uuid=o.uuid, vector=o.vector) for o in part])

    def delete(self, ids: Sequence[str]) -> int:
        if not ids or not self.spaces():
            return 0
        removed = 0
        for part in batched(list(dict.fromkeys(ids)), PAGE):
            res = self._handle().data.delete_many(where=Filter.by_id().contains_any([object_uuid(i) for i in part]))
            removed += res.successful
        return removed

    def delete_source(self, doc_id: str) -> int:
        if not self.spaces():
            return 0
        removed = 0
        while True:  # one delete_many removes at most the server's QUERY_MAXIMUM_RESULTS objects
            done = self._handle().data.delete_many(where=Filter.by_property("doc_id").equal(doc_id)).successful
            removed += done
            if not done:
                return removed
