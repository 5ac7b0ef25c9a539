"""Ingestion: files -> elements -> chunks -> vectors -> store.

Each source is loaded and chunked completely before anything is written.
Small sources are batched (``commit_many``): one embedding call, and one
all-or-nothing insert for those the store has never seen; a source that
changed is written alone with ``write_source`` (new rows first, then the stale
ones removed). So a file that fails leaves nothing half-written and a re-run
never duplicates.

With a manifest (``mmrag.manifest``) a re-run skips unchanged files before
loading them; the manifest entry is written after the chunks, so a run killed
at any point is finished by running it again. The steps (``triage``,
``prepare``, ``commit``) are functions of their inputs so the distributed
engine (``mmrag.distributed``) runs the very same ones on its workers.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from mmrag.chunking import Chunker
from mmrag.embedding.base import batched
from mmrag.embedding.spaces import EmbeddingSpaces, SpaceVectors, join_rows, split_rows
from mmrag.errors import LoaderError, MmragError, UnsupportedFileError
from mmrag.loaders import Loader, default_loaders, find_loader
from mmrag.loaders.ocr import ocr_skipped_note
from mmrag.manifest import (
    LOOKUP_BATCH,
    Change,
    FileState,
    Manifest,
    decide,
    is_under,
    open_manifest,
    pipeline_fingerprint,
)
from mmrag.stores.base import VectorStore, check_specs
from mmrag.types import Chunk, stable_id


class Status(str, Enum):
    INGESTED = "ingested"
    UNCHANGED = "unchanged"
    SKIPPED = "skipped"
    FAILED = "failed"
    REMOVED = "removed"  # gone from disk, pruned from the store (--prune)


@dataclass(frozen=True)
class FileOutcome:
    """What happened to one file."""

    path: str
    status: Status
    chunks: int = 0
    reason: str | None = None
    notes: tuple[str, ...] = ()


@dataclass
class IngestReport:
    """The outcome of a run: per-file results and totals."""

    files: list[FileOutcome] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, status: Status) -> int:
        return sum(1 for f in self.files if f.status is status)

    @property
    def chunks_written(self) -> int:
        return sum(f.chunks for f in self.files if f.status is Status.INGESTED)

    @property
    def ok(self) -> bool:
        return self.count(Status.FAILED) == 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "files_ingested": self.count(Status.INGESTED),
            "files_unchanged": self.count(Status.UNCHANGED),
            "files_skipped": self.count(Status.SKIPPED),
            "files_failed": self.count(Status.FAILED),
            "files_removed": self.count(Status.REMOVED),
            "chunks_written": self.chunks_written,
            "seconds": round(self.seconds, 3),
            "files": [
                {"path": f.path, "status": f.status.value, "chunks": f.chunks, "reason": f.reason, "notes": list(f.notes)}
                for f in self.files
            ],
        }

    def lines(self) -> list[str]:
        """The human report: totals, then one line per file that needs attention."""
        out = [
            f"files ingested: {self.count(Status.INGESTED)}, unchanged: {self.count(Status.UNCHANGED)}, "
            f"skipped: {self.count(Status.SKIPPED)}, failed: {self.count(Status.FAILED)}, "
            f"removed: {self.count(Status.REMOVED)}",
            f"chunks written: {self.chunks_written}",
            f"seconds: {self.seconds:.1f}",
        ]
        for f in self.files:
            if f.status in (Status.FAILED, Status.SKIPPED):
                out.append(f"{f.status.value}: {f.path}: {f.reason}")
            elif f.status is Status.REMOVED:
                out.append(f"removed: {f.path} ({f.chunks} chunks)")
            out.extend(f"note: {f.path}: {n}" for n in f.notes)
        return out


def iter_files(paths: Iterable[str | Path], exclude: Iterable[Path] = ()) -> Iterator[Path]:
    """Files under ``paths`` in a stable order; hidden files and folders are
    skipped, and so is anything under ``exclude`` (the store's own files)."""
    skip = [e.resolve() for e in exclude]

    def wanted(path: Path) -> bool:
        return not any(path.resolve().is_relative_to(s) for s in skip)

    for given in paths:
        p = Path(given)
        if p.is_dir():
            for child in sorted(p.rglob("*")):
                rel = child.relative_to(p).parts
                if child.is_file() and not any(part.startswith(".") for part in rel) and wanted(child):
                    yield child
        elif wanted(p):
            yield p


def doc_id_for(path: Path) -> str:
    """A source's identity: its resolved path, so ``./a.pdf`` and ``a.pdf`` are one source."""
    return stable_id("source", path.resolve())


ProgressHook = Callable[[FileOutcome], None]
# Small sources are gathered until they hold this many chunks, then embedded in
# one call: one short file per forward pass left a CPU mostly idle (Jeopardy's
# 1,000 one-line files). Bounded so a run's memory does not grow with its size.
EMBED_BATCH_CHUNKS = 128
Embed = Callable[[list[Chunk]], Mapping[str, SpaceVectors]]


@dataclass(frozen=True)
class Prepared:
    """One source loaded and chunked, not yet written."""

    state: FileState
    chunks: list[Chunk]
    notes: tuple[str, ...] = ()


def failure(source: str, exc: Exception) -> FileOutcome:
    """The outcome for a file whose step raised: skipped when no loader takes
    it, failed (with the reason) otherwise, so the other files go on."""
    if isinstance(exc, UnsupportedFileError):
        return FileOutcome(source, Status.SKIPPED, reason=exc.problem)
    if isinstance(exc, LoaderError):
        return FileOutcome(source, Status.FAILED, reason=exc.problem)
    if isinstance(exc, MmragError):
        return FileOutcome(source, Status.FAILED, reason=str(exc))
    return FileOutcome(source, Status.FAILED, reason=f"{type(exc).__name__}: {exc}")  # a loader library's own error


def remove_source(store: VectorStore, source: str) -> int:
    """Remove one ingested source, its chunks and its manifest entry (without the
    entry's removal, the next run would skip the unchanged file and never bring it
    back). ``source`` is the file (its resolved path names it) or the path as stored."""
    doc_ids = {doc_id_for(Path(source))} | {s.doc_id for s in store.sources() if s.source == source}
    removed = sum(store.delete_source(doc_id) for doc_id in sorted(doc_ids))
    manifest = open_manifest(store)
    if manifest is not None:
        manifest.delete(sorted(doc_ids))
    return removed


def loaders_for(spaces: EmbeddingSpaces) -> list[Loader]:
    """Every loader; page renders only when some space embeds their pixels (in a
    text-only collection a render would just repeat its page's text hits)."""
    return default_loaders(render_pages=spaces.embeds_images)


def prepare(chunker: Chunker, state: FileState, loaders: list[Loader] | None = None) -> Prepared | FileOutcome:
    """Load and chunk one file (hashing it first, for its manifest entry)."""
    try:
        state = state.hashed()
        loader, note = find_loader(state.path, loaders)
        notes = (note,) if note else ()
        chunks = list(chunker.chunk(state.doc_id, loader.load(state.path, state.source)))
        notes += tuple(sorted({str(c.metadata["decode_note"]) for c in chunks if c.metadata.get("decode_note")}))
        ocr_note = ocr_skipped_note(c.metadata for c in chunks)
        notes += (ocr_note,) if ocr_note else ()
    except Exception as exc:
        return failure(state.source, exc)
    if not chunks:
        return FileOutcome(state.source, Status.SKIPPED, reason="no extractable content", notes=notes)
    return Prepared(state, chunks, notes)


def commit(
    store: VectorStore, manifest: Manifest | None, fingerprint: str, prepared: Prepared, embed: Embed
) -> FileOutcome:
    """Write a prepared source: only chunks the store lacks are embedded and
    inserted, stale ones removed, and the manifest entry written LAST."""
    return commit_many(store, manifest, fingerprint, [prepared], embed)[0]


def commit_many(
    store: VectorStore, manifest: Manifest | None, fingerprint: str, prepared: Sequence[Prepared], embed: Embed
) -> list[FileOutcome]:
    """``commit`` for several sources at the cost of about one: one look-up of
    what is stored, one embedding call for every new chunk, one insert for the
    sources the store has never seen, one manifest write. Many one-paragraph
    files (tickets, FAQ entries) would otherwise pay a forward pass and a few
    round trips each.

    A failure stays with its file: when the joint embedding call or the bulk
    insert fails, each source is embedded and written alone, so the error names
    the file that caused it and the others still land. Manifest entries are
    written after every chunk (a run killed in between is finished next time).
    """
    try:
        stored = store.chunk_ids_of([p.state.doc_id for p in prepared])
    except Exception as exc:
        return [failure(p.state.source, exc) for p in prepared]
    outcomes: dict[int, FileOutcome] = {}
    fresh: list[_Write] = []  # sources with nothing stored: one bulk insert
    replaced: list[_Write] = []  # sources with stale chunks: written one by one
    for i, item in enumerate(prepared):
        wanted = {c.id for c in item.chunks}
        have = stored.get(item.state.doc_id, set())
        if have == wanted:
            outcomes[i] = FileOutcome(item.state.source, Status.UNCHANGED, notes=item.notes)
        else:
            (replaced if have else fresh).append(_Write(i, [c for c in item.chunks if c.id not in have], wanted))
    todo = fresh + replaced
    vectors = _embed_jointly(embed, [w.new for w in todo])
    if len(fresh) > 1 and vectors[0] is not None:
        try:
            store.add_sources([c for w in fresh for c in w.new], join_rows([vectors[n] for n in range(len(fresh))]))
            outcomes.update({w.position: _ingested(prepared[w.position], w) for w in fresh})
        except Exception:
            pass  # each fresh source is written alone below, so the error names its file
    for w, vecs in zip(todo, vectors):
        if w.position in outcomes:
            continue
        item = prepared[w.position]
        try:
            store.write_source(item.state.doc_id, w.new, vecs if vecs is not None else embed(w.new), keep=w.wanted)
            outcomes[w.position] = _ingested(item, w)
        except Exception as exc:
            outcomes[w.position] = failure(item.state.source, exc)
    _record(manifest, fingerprint, prepared, outcomes)
    return [outcomes[i] for i in range(len(prepared))]


@dataclass(frozen=True)
class _Write:
    position: int  # in the prepared list
    new: list[Chunk]  # chunks the store lacks
    wanted: set[str]  # every chunk id the source has now


def _ingested(item: Prepared, write: _Write) -> FileOutcome:
    return FileOutcome(item.state.source, Status.INGESTED, chunks=len(write.new), notes=item.notes)


def _embed_jointly(embed: Embed, groups: list[list[Chunk]]) -> list[Mapping[str, SpaceVectors] | None]:
    """Every group's vectors from one ``embed`` call, split back per group; all
    None (embed each group alone) for a single group or when the call fails."""
    if len(groups) < 2:
        return [None] * len(groups)
    try:
        vectors = embed([c for group in groups for c in group])
    except Exception:
        return [None] * len(groups)
    split = {space: split_rows(v, [len(g) for g in groups]) for space, v in vectors.items()}
    return [{space: parts[n] for space, parts in split.items()} for n in range(len(groups))]


def _record(manifest: Manifest | None, fingerprint: str, prepared: Sequence[Prepared], outcomes: dict[int, FileOutcome]) -> None:
    """Manifest entries for the sources now stored in full, in one write; if it
    fails, those sources are reported failed (their chunks are in place, so the
    next run only writes the entries)."""
    done = [i for i, o in outcomes.items() if o.status in (Status.INGESTED, Status.UNCHANGED)]
    if manifest is None or not done:
        return
    try:
        manifest.put([prepared[i].state.entry(len({c.id for c in prepared[i].chunks}), fingerprint) for i in done])
    except Exception as exc:
        outcomes.update({i: failure(prepared[i].state.source, exc) for i in done})


@dataclass
class Plan:
    """What a run would do (``--dry-run``): nothing is written to make it."""

    add: list[str] = field(default_factory=list)
    replace: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    remove: list[str] = field(default_factory=list)
    problems: list[FileOutcome] = field(default_factory=list)  # would be skipped or fail, and why

    def to_dict(self) -> dict[str, Any]:
        return {
            "add": self.add,
            "replace": self.replace,
            "unchanged": self.unchanged,
            "remove": self.remove,
            "problems": [{"path": f.path, "status": f.status.value, "reason": f.reason} for f in self.problems],
        }

    def lines(self) -> list[str]:
        out = [
            f"would add: {len(self.add)}, replace: {len(self.replace)}, remove: {len(self.remove)}, "
            f"unchanged: {len(self.unchanged)}, problems: {len(self.problems)} (dry run: nothing written)"
        ]
        for verb, items in (("add", self.add), ("replace", self.replace), ("remove", self.remove)):
            out.extend(f"{verb}: {p}" for p in items)
        out.extend(f"{f.status.value}: {f.path}: {f.reason}" for f in self.problems)
        return out


@dataclass
class Ingestor:
    """Runs ingestion into one store with one set of embedders.

    Example::

        spaces = EmbeddingSpaces({"text": SentenceTransformerEmbedder()})
        ingestor = Ingestor(store, spaces, Chunker(spaces.tokenizer))
        report = ingestor.run(["examples/data"])             # again: unchanged files skipped
        plan = ingestor.plan(["examples/data"], prune=True)  # what a run would do
    """

    store: VectorStore
    spaces: EmbeddingSpaces
    chunker: Chunker
    manifest: Manifest | None = None  # default: the store's own (see mmrag.manifest.open_manifest)
    loaders: list[Loader] | None = None  # default: every loader; page renders only if some space embeds images
    batch_chunks: int = EMBED_BATCH_CHUNKS  # small sources are embedded and inserted together up to this many chunks

    def __post_init__(self) -> None:
        if self.batch_chunks < 1:
            raise ValueError(f"batch_chunks must be >= 1, got {self.batch_chunks}")
        if self.manifest is None:
            self.manifest = open_manifest(self.store)
        if self.loaders is None:
            self.loaders = loaders_for(self.spaces)

    @property
    def fingerprint(self) -> str:
        return pipeline_fingerprint(self.spaces.specs(), self.chunker.options)

    def run(self, paths: Iterable[str | Path], on_file: ProgressHook | None = None, *, prune: bool = False) -> IngestReport:
        """Ingest ``paths``; with ``prune``, also remove the sources under them that are gone from disk."""
        started = time.perf_counter()
        paths = list(paths)
        self.store.ensure_collection(self.spaces.specs())
        report = IngestReport()

        def done(outcome: FileOutcome) -> None:
            report.files.append(outcome)
            if on_file:
                on_file(outcome)

        pending: list[Prepared] = []

        def write_pending() -> None:
            for outcome in commit_many(self.store, self.manifest, self.fingerprint, pending, self.spaces.embed_chunks):
                done(outcome)
            pending.clear()

        for batch in batched(self.files(paths), LOOKUP_BATCH):
            for item in self.triage(batch):
                prepared = item if isinstance(item, FileOutcome) else prepare(self.chunker, item, self.loaders)
                if isinstance(prepared, FileOutcome):
                    done(prepared)
                    continue
                pending.append(prepared)
                if sum(len(p.chunks) for p in pending) >= self.batch_chunks:
                    write_pending()
        write_pending()
        if prune:
            for outcome in self.prune(paths):
                done(outcome)
        if report.chunks_written:
            self.store.flush()  # seal what was written so later searches scan few, indexed segments
        report.seconds = time.perf_counter() - started
        return report

    def files(self, paths: Iterable[str | Path]) -> list[Path]:
        """The files a run over ``paths`` would visit (never the store's own files),
        each once even when ``paths`` overlap (``docs`` and ``docs/a.pdf``): two
        copies of a source in one batch would both be inserted."""
        seen: set[Path] = set()
        out = []
        for path in iter_files(paths, exclude=[self.store.local_path] if self.store.local_path else []):
            if path.resolve() not in seen:
                seen.add(path.resolve())
                out.append(path)
        return out

    def triage(self, paths: list[Path]) -> list[FileState | FileOutcome]:
        """Per file, in order: an outcome when it needs no loading (unchanged, or
        an error), else its state to ingest. One manifest look-up for the batch;
        a file is hashed only when size and mtime do not settle it."""
        fingerprint = self.fingerprint
        ids = [doc_id_for(p) for p in paths]
        known = self.manifest.lookup(ids) if self.manifest else {}
        out: list[FileState | FileOutcome] = []
        for path, doc_id in zip(paths, ids):
            try:
                if not path.exists():
                    raise LoaderError(path, "no such file")
                entry = known.get(doc_id)
                change, state = decide(FileState.of(path, doc_id), entry, fingerprint)
                if change is Change.TOUCH and self.manifest is not None and entry is not None:
                    # Same bytes under a new mtime: refresh the entry so the next run needs no hash.
                    self.manifest.put([state.entry(entry.chunks, fingerprint)])
                out.append(FileOutcome(str(path), Status.UNCHANGED) if change in (Change.UNCHANGED, Change.TOUCH) else state)
            except Exception as exc:
                out.append(failure(str(path), exc))
        return out

    def ingest_file(self, path: Path) -> FileOutcome:
        """Ingest one file (skipped before loading when the manifest says it is unchanged)."""
        (item,) = self.triage([path])
        return item if isinstance(item, FileOutcome) else self._ingest(item)

    def _ingest(self, state: FileState) -> FileOutcome:
        prepared = prepare(self.chunker, state, self.loaders)
        if isinstance(prepared, FileOutcome):
            return prepared
        return commit(self.store, self.manifest, self.fingerprint, prepared, self.spaces.embed_chunks)

    def gone(self, paths: Iterable[str | Path]) -> dict[str, str]:
        """``doc_id -> source`` of stored sources under ``paths`` whose file no
        longer exists: those in the manifest, and those a killed run wrote
        without an entry (recognised only when their recorded path still
        resolves to their doc id, so a relative path read from elsewhere is never
        taken for a missing file). Scans the whole collection: --prune only."""
        roots = [Path(p).resolve() for p in paths]
        gone: dict[str, str] = {}
        recorded: set[str] = set()
        if self.manifest is not None:
            for entry in self.manifest.entries():
                recorded.add(entry.doc_id)
                if is_under(entry.path, roots) and not Path(entry.path).exists():
                    gone[entry.doc_id] = entry.source
        for info in self.store.sources():
            if info.doc_id in recorded:
                continue
            path = Path(info.source)
            if doc_id_for(path) == info.doc_id and is_under(path.resolve(), roots) and not path.exists():
                gone[info.doc_id] = info.source
        return gone

    def prune(self, paths: Iterable[str | Path]) -> list[FileOutcome]:
        """Remove the sources under ``paths`` that are gone from disk: chunks
        first, then the manifest entry (a kill in between is finished next time)."""
        outcomes = []
        for doc_id, source in sorted(self.gone(paths).items(), key=lambda kv: kv[1]):
            removed = self.store.delete_source(doc_id)
            if self.manifest is not None:
                self.manifest.delete([doc_id])
            outcomes.append(FileOutcome(source, Status.REMOVED, chunks=removed))
        return outcomes

    def plan(self, paths: Iterable[str | Path], *, prune: bool = False) -> Plan:
        """What ``run`` would do, writing nothing. A file with no manifest entry
        whose source already has chunks (written by a killed run or before the
        manifest existed) is loaded and chunked to tell unchanged from replace."""
        paths = list(paths)
        stored = self.store.spaces()
        if stored:
            check_specs(self.store.collection, stored, self.spaces.specs())
        fingerprint = self.fingerprint
        plan = Plan()
        for batch in batched(self.files(paths), LOOKUP_BATCH):
            ids = [doc_id_for(p) for p in batch]
            known = self.manifest.lookup(ids) if self.manifest else {}
            for path, doc_id in zip(batch, ids):
                source = str(path)
                try:
                    if not path.exists():
                        raise LoaderError(path, "no such file")
                    change, state = decide(FileState.of(path, doc_id), known.get(doc_id), fingerprint)
                    if change in (Change.UNCHANGED, Change.TOUCH):
                        plan.unchanged.append(source)
                        continue
                    find_loader(path, self.loaders)  # unsupported or unreadable files would be skipped or fail
                    existing = self.store.chunk_ids(doc_id) if change is Change.ADD else None
                    if not existing:
                        (plan.add if change is Change.ADD else plan.replace).append(source)
                        continue
                    prepared = prepare(self.chunker, state, self.loaders)
                    if isinstance(prepared, FileOutcome):
                        plan.problems.append(prepared)
                    elif {c.id for c in prepared.chunks} == existing:
                        plan.unchanged.append(source)
                    else:
                        plan.replace.append(source)
                except Exception as exc:
                    plan.problems.append(failure(source, exc))
        if prune:
            plan.remove = sorted(self.gone(paths).values())
        return plan
