"""The ingest manifest: what each source looked like when it was last ingested.

One entry per source (its resolved path, size, mtime, content hash, chunk count
and the models and chunking it was ingested with) lets a re-run skip unchanged
files before loading them: size+mtime first (a stat), then the content hash
(one read), and only then the loader, chunker and embedder.

The entry is written LAST, after the source's chunks are in the store, so a run
killed at any point leaves either a complete source with its entry, or a source
without an up-to-date entry, which the next run simply redoes (``write_source``
replaces a source's chunks, so redoing never duplicates).

The manifest lives in the store itself (``VectorStore.manifest()``; for Milvus a
small companion collection ``<collection>__manifest``, see
``mmrag.stores.milvus.manifest``), so every worker of a distributed run and every
machine that ingests into a cluster sees the same one. This module holds the
pure change detection and the interface.
"""

from __future__ import annotations

import hashlib
import json
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mmrag.chunking import WindowOptions
from mmrag.embedding.base import EmbedderSpec, batched
from mmrag.stores.base import VectorStore
from mmrag.version import __version__

if TYPE_CHECKING:
    from mmrag.asr.base import AsrSpec

LOOKUP_BATCH = 512


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


def pipeline_fingerprint(
    specs: Mapping[str, EmbedderSpec], window: WindowOptions, asr: AsrSpec | None = None, *, speech: bool = False
) -> str:
    """What, besides the file's bytes, decides its chunks and vectors: the models
    of every space, the chunk window, the ASR model (when there is one, or with
    ``speech`` even when there is none: so collections without speech keep their
    fingerprint) and the mmrag version (a new release may load or chunk a file
    differently). A change re-loads the file; chunks whose ids did not change
    are not embedded again."""
    parts: dict[str, Any] = {
        "spaces": {s: json.loads(spec.to_json()) for s, spec in sorted(specs.items())}, "window": asdict(window),
        "mmrag": __version__,
    }
    if asr is not None or speech:
        parts["asr"] = json.loads(asr.to_json()) if asr is not None else None
    return json.dumps(parts, sort_keys=True)


@dataclass(frozen=True, slots=True)
class Fingerprints:
    """A run's fingerprint in its two forms: ``plain`` for a file whose chunks no
    ASR model decides, ``speech`` (with the run's ASR model, or its lack) for a
    media file whose speech was transcribed, or waits for a model. A file is
    recorded under the form that applies to it, so a new ASR model re-reads only
    the media files whose transcript came from ASR."""

    plain: str
    speech: str

    @classmethod
    def of(cls, specs: Mapping[str, EmbedderSpec], window: WindowOptions, asr: AsrSpec | None) -> Fingerprints:
        return cls(pipeline_fingerprint(specs, window), pipeline_fingerprint(specs, window, asr, speech=True))

    def accepts(self, recorded: str) -> bool:
        """Whether an entry recorded under ``recorded`` was made as this run would make it."""
        return recorded in (self.plain, self.speech)

    def for_file(self, uses_asr: bool) -> str:
        return self.speech if uses_asr else self.plain


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
    entry: ManifestEntry | None, size: int, mtime_ns: int, fingerprint: Fingerprints, sha256: str | None
) -> Change:
    """Pure decision for one file. ``sha256`` is None when the caller has not
    hashed the file: then a size/mtime mismatch that only a hash could settle
    raises ``LookupError`` (callers hash only when they must)."""
    if entry is None:
        return Change.ADD
    if not fingerprint.accepts(entry.fingerprint):
        return Change.REPLACE
    if entry.size == size and entry.mtime_ns == mtime_ns:
        return Change.UNCHANGED
    if entry.size != size:
        return Change.REPLACE
    if sha256 is None:
        raise LookupError("the content hash decides")
    return Change.TOUCH if sha256 == entry.sha256 else Change.REPLACE


def decide(state: FileState, entry: ManifestEntry | None, fingerprint: Fingerprints) -> tuple[Change, FileState]:
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


def open_manifest(store: VectorStore) -> Manifest | None:
    """The manifest kept with ``store``, or None for a store that has none
    (then every run loads each file and compares chunk ids, which is correct
    but slower)."""
    return store.manifest()
