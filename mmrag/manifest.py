"""The ingest manifest: what each source looked like when it was last ingested.

One entry per source (its resolved path, size, mtime, content hash, chunk count
and the models and chunking it was ingested with) lets a re-run skip unchanged
files before loading them: size+mtime first (a stat), then the content hash
(one read), and only then the loader, chunker and embedder.

The entry is written LAST, after the source's chunks are in the store, so a run
killed at any point leaves either a complete source with its entry, or a source
without an up-to-date entry, which the next run simply redoes (``write_source``
replaces a source's chunks, so redoing never duplicates).

The manifest lives in the store itself (for Milvus a small companion collection
``<collection>__manifest``), so every worker of a distributed run and every
machine that ingests into a cluster sees the same one.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from mmrag.chunking import WindowOptions
from mmrag.embedding.base import EmbedderSpec, batched
from mmrag.errors import StoreError
from mmrag.stores.base import VectorStore

MANIFEST_SUFFIX = "__manifest"
TOKEN_PROPERTY = "mmrag.manifest_token"  # stamped on the chunk collection and its manifest alike
LOOKUP_BATCH = 512
QUERY_PAGE = 16384  # Milvus' largest query window


@dataclass(frozen=True, slots=True)
class ManifestEntry:
    """One source as it was last ingested. ``path`` is resolved (the key for
    ``--prune``); ``source`` is the path as the user gave it (what hits show)."""

    doc_id: str
    path: str
    source: str
    size: int
    mtime_ns: int
    sha256: str
    chunks: int
    fingerprint: str
    ingested_at: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def file_sha256(path: Path) -> str:
    """The hex SHA-256 of a file's bytes, read in blocks (never whole into memory)."""
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def pipeline_fingerprint(specs: Mapping[str, EmbedderSpec], window: WindowOptions) -> str:
    """What, besides the file's bytes, decides its chunks and vectors: the models
    of every space, the chunk window, and the mmrag version (a new release may
    load or chunk a file differently). A change re-loads the file; chunks whose
    ids did not change are not embedded again."""
    from mmrag import __version__  # here: the package is initialised by the time a run asks

    return json.dumps(
        {"spaces": {s: json.loads(spec.to_json()) for s, spec in sorted(specs.items())}, "window": asdict(window),
         "mmrag": __version__},
        sort_keys=True,
    )


@dataclass(frozen=True, slots=True)
class FileState:
    """A file as a run found it, stat'ed (and hashed) BEFORE it is loaded, so an
    edit made while it is being ingested shows up as a change on the next run."""

    path: Path
    source: str
    doc_id: str
    size: int
    mtime_ns: int
    sha256: str | None = None

    @classmethod
    def of(cls, path: Path, doc_id: str) -> FileState:
        st = path.stat()
        return cls(path, str(path), doc_id, st.st_size, st.st_mtime_ns)

    def hashed(self) -> FileState:
        return self if self.sha256 else FileState(
            self.path, self.source, self.doc_id, self.size, self.mtime_ns, file_sha256(self.path)
        )

    def entry(self, chunks: int, fingerprint: str) -> ManifestEntry:
        assert self.sha256 is not None, "hash the file before recording it"
        return ManifestEntry(
            doc_id=self.doc_id,
            path=str(self.path.resolve()),
            source=self.source,
            size=self.size,
            mtime_ns=self.mtime_ns,
            sha256=self.sha256,
            chunks=chunks,
            fingerprint=fingerprint,
            ingested_at=time.time(),
        )


class Change(str, Enum):
    """What a run does with one file."""

    ADD = "add"  # no entry yet
    REPLACE = "replace"  # content or pipeline changed: re-ingest, old chunks replaced
    UNCHANGED = "unchanged"  # size+mtime (or the hash) match: skipped before loading
    TOUCH = "touch"  # same bytes under a new mtime: only the entry is refreshed


def classify(
    entry: ManifestEntry | None, size: int, mtime_ns: int, fingerprint: str, sha256: str | None
) -> Change:
    """Pure decision for one file. ``sha256`` is None when the caller has not
    hashed the file: then a size/mtime mismatch that only a hash could settle
    raises ``LookupError`` (callers hash only when they must)."""
    if entry is None:
        return Change.ADD
    if entry.fingerprint != fingerprint:
        return Change.REPLACE
    if entry.size == size and entry.mtime_ns == mtime_ns:
        return Change.UNCHANGED
    if entry.size != size:
        return Change.REPLACE
    if sha256 is None:
        raise LookupError("the content hash decides")
    return Change.TOUCH if sha256 == entry.sha256 else Change.REPLACE


def decide(state: FileState, entry: ManifestEntry | None, fingerprint: str) -> tuple[Change, FileState]:
    """``classify`` that hashes the file only when size and mtime cannot settle it."""
    try:
        return classify(entry, state.size, state.mtime_ns, fingerprint, None), state
    except LookupError:
        state = state.hashed()
        return classify(entry, state.size, state.mtime_ns, fingerprint, state.sha256), state


def is_under(path: str | Path, roots: Iterable[Path]) -> bool:
    """Whether a resolved ``path`` is one of ``roots`` (resolved) or inside one."""
    p = Path(path)
    return any(p == r or p.is_relative_to(r) for r in roots)


class Manifest(ABC):
    """Entries keyed by ``doc_id``, kept beside a store's chunks.

    Example::

        manifest = open_manifest(store)
        known = manifest.get_many(["<doc id>"])
        manifest.put(entry)  # after the source's chunks are written
    """

    @abstractmethod
    def get_many(self, doc_ids: Sequence[str]) -> dict[str, ManifestEntry]:
        """The entries that exist among ``doc_ids``."""

    @abstractmethod
    def put(self, entries: Sequence[ManifestEntry]) -> None:
        """Insert or replace entries."""

    @abstractmethod
    def delete(self, doc_ids: Sequence[str]) -> None:
        """Forget sources (missing ids are ignored)."""

    @abstractmethod
    def entries(self) -> Iterator[ManifestEntry]:
        """Every entry (for ``--prune`` and reports)."""

    def lookup(self, doc_ids: Sequence[str]) -> dict[str, ManifestEntry]:
        """``get_many`` over any number of ids, in batches the store accepts."""
        found: dict[str, ManifestEntry] = {}
        for batch in batched(list(doc_ids), LOOKUP_BATCH):
            found.update(self.get_many(list(batch)))
        return found


class MilvusManifest(Manifest):
    """The manifest as a companion Milvus collection ``<collection>__manifest``.

    Milvus needs a vector field in every collection, so each row carries a
    constant 2-d placeholder vector that nothing searches. The manifest shares a
    token with the chunk collection it describes: if that collection was dropped
    and made again, the old manifest would claim sources that are gone, so it
    is dropped and started afresh.
    """

    def __init__(self, client: Any, collection: str) -> None:
        self.client = client
        self.of = collection
        self.name = f"{collection}{MANIFEST_SUFFIX}"
        self._ready = False

    def _token(self, name: str) -> str | None:
        return self.client.describe_collection(name).get("properties", {}).get(TOKEN_PROPERTY)

    def _ensure(self, create: bool) -> bool:
        """Open the manifest (making it when ``create``); False when there is no
        valid one to read. Reads never create, so ``--dry-run`` writes nothing."""
        if self._ready:
            return True
        if not self.client.has_collection(self.of):
            return False
        # Milvus Lite gives every collection id 0, so a random token stamped on
        # both collections is what tells "same collection" from "made again".
        owner = self._token(self.of)
        if self.client.has_collection(self.name):
            if owner is not None and self._token(self.name) == owner:
                self.client.load_collection(self.name)
                self._ready = True
                return True
            if not create:
                return False
            self.client.drop_collection(self.name)  # belongs to an earlier collection of that name
        if not create:
            return False
        if owner is None:
            owner = uuid.uuid4().hex
            self.client.alter_collection_properties(self.of, {TOKEN_PROPERTY: owner})
        self._create(owner)
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
        self.client.create_collection(
            self.name, schema=schema, index_params=index, consistency_level="Strong", properties={TOKEN_PROPERTY: owner}
        )
        self.client.load_collection(self.name)

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


def open_manifest(store: VectorStore) -> Manifest | None:
    """The manifest kept with ``store``, or None for a store that has none yet
    (then every run loads each file and compares chunk ids, which is correct
    but slower)."""
    from mmrag.stores.milvus import MilvusStore

    if isinstance(store, MilvusStore):
        return MilvusManifest(store.client, store.collection)
    return None
