"""The Weaviate ingest manifest: a companion collection ``<Collection>__manifest``.

One object per source, its uuid derived from the source's ``doc_id`` (so ``put``
replaces an entry). The pure parts (names, the collection config, entry <->
properties, the token that ties the manifest to its chunk collection, and what
opening decides) are functions unit-tested without a server; ``WeaviateManifest``
only calls the client with them. The change detection itself is
``mmrag.manifest``'s, the same for every store.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Mapping, Sequence
from enum import Enum
from typing import Any

from mmrag.embedding.base import batched
from mmrag.errors import StoreError
from mmrag.manifest import LOOKUP_BATCH, Manifest, ManifestEntry
from mmrag.stores.weaviate.schema import DESCRIPTION_PREFIX

MANIFEST_SUFFIX = "__manifest"
MANIFEST_PREFIX = "mmrag-manifest:"  # not "mmrag:": info() must not list the manifest as a collection
TOKEN_KEY = "mmrag.manifest_token"  # beside the specs in the chunk collection's description; no space name has a dot
NAMESPACE = uuid.UUID("6b0f7d52-3f0e-5d6b-9a57-6d6d72616702")  # fixed: a doc_id keeps its entry's uuid forever
FIELDS = ["doc_id", "path", "source", "size", "mtime_ns", "sha256", "chunks", "fingerprint", "ingested_at"]


def manifest_name(chunk_class: str) -> str:
    """The manifest collection of a chunk collection (its Weaviate class name)."""
    return f"{chunk_class}{MANIFEST_SUFFIX}"


def entry_uuid(doc_id: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, doc_id)


def manifest_config(chunk_class: str, token: str) -> dict[str, Any]:
    """Keyword arguments for ``client.collections.create``: no vectors, ``doc_id`` filterable."""
    from weaviate.classes.config import Configure, DataType, Property, Tokenization

    def text(name: str, filterable: bool = False) -> Any:
        return Property(name=name, data_type=DataType.TEXT, tokenization=Tokenization.FIELD,
                        index_searchable=False, index_filterable=filterable)

    return {
        "name": manifest_name(chunk_class),
        "description": MANIFEST_PREFIX + token,
        "properties": [
            text("doc_id", filterable=True), text("path"), text("source"),
            Property(name="size", data_type=DataType.INT, index_filterable=False),
            text("mtime_ns"),  # see entry_properties
            text("sha256"),
            Property(name="chunks", data_type=DataType.INT, index_filterable=False),
            text("fingerprint"),
            Property(name="ingested_at", data_type=DataType.NUMBER, index_filterable=False),
        ],
        "vector_config": Configure.Vectors.self_provided(),  # nothing is ever searched by vector here
    }


def entry_properties(entry: ManifestEntry) -> dict[str, Any]:
    """An entry as object properties. ``mtime_ns`` is kept as text: nanoseconds since
    1970 are above 2**53, and Weaviate's JSON paths carry numbers as float64, which
    would round the last digits and make every file look touched."""
    return entry.to_dict() | {"mtime_ns": str(entry.mtime_ns)}


def properties_entry(props: Mapping[str, Any]) -> ManifestEntry:
    values = {f: props[f] for f in FIELDS}
    return ManifestEntry(**values | {"size": int(values["size"]), "mtime_ns": int(values["mtime_ns"]),
                                     "chunks": int(values["chunks"]), "ingested_at": float(values["ingested_at"])})


def owner_token(description: str | None) -> str | None:
    """The manifest token stamped in a chunk collection's ``mmrag:`` description."""
    if not description or not description.startswith(DESCRIPTION_PREFIX):
        return None
    return json.loads(description[len(DESCRIPTION_PREFIX):]).get(TOKEN_KEY)


def with_owner_token(description: str, token: str) -> str:
    raw = json.loads(description[len(DESCRIPTION_PREFIX):])
    return DESCRIPTION_PREFIX + json.dumps(raw | {TOKEN_KEY: token})


def manifest_token(description: str | None) -> str | None:
    if not description or not description.startswith(MANIFEST_PREFIX):
        return None
    return description[len(MANIFEST_PREFIX):] or None


class Opening(Enum):
    """What opening the manifest does, given what exists."""

    NONE = "none"  # nothing valid to read (and not asked to create)
    OPEN = "open"  # the manifest belongs to this chunk collection
    CREATE = "create"  # make it (first write)
    REPLACE = "replace"  # one exists but belongs to an earlier collection of that name: drop it, make it again


def opening(chunks_exist: bool, owner: str | None, existing: str | None | bool, create: bool) -> Opening:
    """``existing``: the manifest collection's token, or False when there is none.
    A manifest whose token is not the chunk collection's describes sources of a
    collection that was dropped and made again, so it is never read."""
    if not chunks_exist:
        return Opening.NONE
    if existing is not False and owner is not None and existing == owner:
        return Opening.OPEN
    if not create:
        return Opening.NONE
    return Opening.CREATE if existing is False else Opening.REPLACE


class WeaviateManifest(Manifest):
    """The manifest of one Weaviate chunk collection, in ``<Collection>__manifest``.

    Example::

        manifest = store.manifest()
        manifest.put([entry])            # after the source's chunks are written
        manifest.get_many([entry.doc_id])
    """

    def __init__(self, client: Any, chunk_class: str) -> None:
        self.client = client
        self.of = chunk_class
        self.name = manifest_name(chunk_class)
        self._ready = False

    def _ensure(self, create: bool) -> bool:
        """Open the manifest (making it when ``create``); False when there is no valid
        one to read. Reads never create, so ``--dry-run`` writes nothing."""
        if self._ready:
            return True
        collections = self.client.collections
        chunks_exist = collections.exists(self.of)
        owner = owner_token(collections.get(self.of).config.get().description) if chunks_exist else None
        existing: str | None | bool = False
        if chunks_exist and collections.exists(self.name):
            existing = manifest_token(collections.get(self.name).config.get().description)
        action = opening(chunks_exist, owner, existing, create)
        if action is Opening.NONE:
            return False
        if action is Opening.REPLACE:
            collections.delete(self.name)
        if action in (Opening.CREATE, Opening.REPLACE):
            if owner is None:
                owner = uuid.uuid4().hex
                handle = collections.get(self.of)
                handle.config.update(description=with_owner_token(handle.config.get().description, owner))
            collections.create(**manifest_config(self.of, owner))
        self._ready = True
        return True

    def _handle(self) -> Any:
        return self.client.collections.get(self.name)

    def get_many(self, doc_ids: Sequence[str]) -> dict[str, ManifestEntry]:
        if not doc_ids or not self._ensure(create=False):
            return {}
        found: dict[str, ManifestEntry] = {}
        for part in batched(list(dict.fromkeys(doc_ids)), LOOKUP_BATCH):
            res = self._handle().query.fetch_objects_by_ids(
                [entry_uuid(d) for d in part], limit=len(part), return_properties=FIELDS)
            found.update((o.properties["doc_id"], properties_entry(o.properties)) for o in res.objects)
        return found

    def put(self, entries: Sequence[ManifestEntry]) -> None:
        from weaviate.classes.data import DataObject

        if not entries:
            return
        if not self._ensure(create=True):
            raise StoreError(f"collection '{self.of}' does not exist: write chunks before their manifest entries")
        for part in batched(list(entries), LOOKUP_BATCH):
            result = self._handle().data.insert_many(
                [DataObject(properties=entry_properties(e), uuid=entry_uuid(e.doc_id)) for e in part])
            if result.errors:
                first = next(iter(result.errors.values()))
                raise StoreError(f"writing {len(result.errors)} manifest entries of '{self.of}' failed: {first.message}")

    def delete(self, doc_ids: Sequence[str]) -> None:
        from weaviate.classes.query import Filter

        if not doc_ids or not self._ensure(create=False):
            return
        for part in batched(list(dict.fromkeys(doc_ids)), LOOKUP_BATCH):
            self._handle().data.delete_many(where=Filter.by_id().contains_any([entry_uuid(d) for d in part]))

    def entries(self) -> Iterator[ManifestEntry]:
        if not self._ensure(create=False):
            return
        for obj in self._handle().iterator(return_properties=FIELDS):  # a cursor: no result cap
            yield properties_entry(obj.properties)
