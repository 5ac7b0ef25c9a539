"""The Milvus ingest manifest: a companion collection ``<collection>__manifest``."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from mmrag.embedding.base import batched
from mmrag.errors import StoreError
from mmrag.manifest import LOOKUP_BATCH, Manifest, ManifestEntry
from mmrag.stores.milvus.rows import QUERY_PAGE
from mmrag.stores.milvus.schema import TOKEN_PROPERTY, create_indexed, owner_token

MANIFEST_SUFFIX = "__manifest"


class MilvusManifest(Manifest):
    """The manifest as a companion Milvus collection ``<collection>__manifest``.

    Milvus needs a vector field in every collection, so each row carries a
    constant 2-d placeholder vector that nothing searches. The manifest shares a
    token with the chunk collection it describes: if that collection was dropped
    and made again, the old manifest would claim sources that are gone, so it
    is dropped and started afresh.
    """

    def __init__(self, client: Any, collection: str, *, lite: bool = False) -> None:
        self.client = client
        self.lite = lite
        self.of = collection
        self.name = f"{collection}{MANIFEST_SUFFIX}"
        self._ready = False

    def _ensure(self, create: bool) -> bool:
        """Open the manifest (making it when ``create``); False when there is no
        valid one to read. Reads never create, so ``--dry-run`` writes nothing."""
        if self._ready:
            return True
        if not self.client.has_collection(self.of):
            return False
        owner = owner_token(self.client, self.of, create=False)
        if self.client.has_collection(self.name):
            if owner is not None and owner_token(self.client, self.name, create=False) == owner:
                self.client.load_collection(self.name)
                self._ready = True
                return True
            if not create:
                return False
            self.client.drop_collection(self.name)  # belongs to an earlier collection of that name
        if not create:
            return False
        self._create(owner or owner_token(self.client, self.of, create=True))
        self._ready = True
        return True

    def _create(self, owner: str) -> None:
        import pymilvus

        DataType = pymilvus.DataType
        schema = self.client.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("doc_id", DataType.VARCHAR, is_primary=True, max_length=64)
        schema.add_field("path", DataType.VARCHAR, max_length=4096)
        schema.add_field("source", DataType.VARCHAR, max_length=4096)
        schema.add_field("size", DataType.INT64)
        schema.add_field("mtime_ns", DataType.INT64)
        schema.add_field("sha256", DataType.VARCHAR, max_length=64)
        schema.add_field("chunks", DataType.INT64)
        schema.add_field("fingerprint", DataType.VARCHAR, max_length=65535)
        schema.add_field("ingested_at", DataType.DOUBLE)
        schema.add_field("placeholder", DataType.FLOAT_VECTOR, dim=2)
        index = self.client.prepare_index_params()
        index.add_index("placeholder", index_type="FLAT", metric_type="L2")
        create_indexed(self.client, self.name, schema, index, lite=self.lite, properties={TOKEN_PROPERTY: owner})

    def get_many(self, doc_ids: Sequence[str]) -> dict[str, ManifestEntry]:
        if not doc_ids or not self._ensure(create=False):
            return {}
        rows = self.client.get(self.name, ids=list(doc_ids), output_fields=_FIELDS)
        return {r["doc_id"]: _entry(r) for r in rows}

    def put(self, entries: Sequence[ManifestEntry]) -> None:
        if not entries:
            return
        if not self._ensure(create=True):
            raise StoreError(f"collection '{self.of}' does not exist: write chunks before their manifest entries")
        for batch in batched(list(entries), LOOKUP_BATCH):
            self.client.upsert(self.name, [e.to_dict() | {"placeholder": [0.0, 0.0]} for e in batch])

    def delete(self, doc_ids: Sequence[str]) -> None:
        if not doc_ids or not self._ensure(create=False):
            return
        for batch in batched(list(doc_ids), LOOKUP_BATCH):
            self.client.delete(self.name, ids=list(batch))

    def entries(self) -> Iterator[ManifestEntry]:
        if not self._ensure(create=False):
            return
        rows = self.client.query(self.name, filter="", output_fields=_FIELDS, limit=QUERY_PAGE)
        if len(rows) < QUERY_PAGE:
            yield from (_entry(r) for r in rows)
            return
        # More entries than one query window: page through them with an iterator.
        iterator = self.client.query_iterator(self.name, batch_size=QUERY_PAGE, filter="", output_fields=_FIELDS)
        try:
            while page := iterator.next():
                yield from (_entry(r) for r in page)
        finally:
            iterator.close()


_FIELDS = ["doc_id", "path", "source", "size", "mtime_ns", "sha256", "chunks", "fingerprint", "ingested_at"]


def _entry(row: Mapping[str, Any]) -> ManifestEntry:
    return ManifestEntry(**{f: row[f] for f in _FIELDS})
