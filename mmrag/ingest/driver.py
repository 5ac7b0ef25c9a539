"""The ingest driver: ``Ingestor`` runs the steps over a set of paths, skipping
unchanged files by the manifest, batching small sources, pruning removed ones."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mmrag.chunking import Chunker
from mmrag.embedding.base import batched
from mmrag.embedding.spaces import EmbeddingSpaces
from mmrag.errors import InvalidArgument
from mmrag.ingest.budget import DEFAULT_MAX_FILE_MB, check_budget
from mmrag.ingest.overlap import PrepareAhead, can_send
from mmrag.ingest.report import FileOutcome, IngestReport, Plan, ProgressHook, Status, failure
from mmrag.ingest.steps import (
    EMBED_BATCH_CHUNKS,
    Prepared,
    commit,
    commit_many,
    doc_id_for,
    loaders_for,
    prepare,
    screen,
)
from mmrag.ingest.walk import unreadable, walk
from mmrag.loaders import Loader
from mmrag.loaders.ocr_cache import OcrCache, cache_file_for, use_cache
from mmrag.manifest import (
    LOOKUP_BATCH,
    Change,
    FileState,
    Fingerprints,
    Manifest,
    ManifestEntry,
    decide,
    is_under,
    open_manifest,
)
from mmrag.stores.base import VectorStore, check_specs

if TYPE_CHECKING:
    from mmrag.asr.base import AsrSpec

# What ``Ingestor.classify`` says of a file: why it cannot be read, or how it
# changed (with its new state and the manifest entry it was compared with).
Verdict = FileOutcome | tuple[Change, FileState, ManifestEntry | None]


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
    ocr_cache: OcrCache | None = None  # default: a file beside an embedded store, so re-runs read no picture twice
    max_file_mb: float | None = DEFAULT_MAX_FILE_MB  # a file over this (on disk, or inflated zip parts) is refused; None: no limit
    overlap: bool = False  # load and chunk in a worker process while this one embeds (mmrag.ingest.overlap)

    def __post_init__(self) -> None:
        if self.batch_chunks < 1:
            raise InvalidArgument(f"batch_chunks must be >= 1, got {self.batch_chunks}")
        self.max_file_mb = check_budget(self.max_file_mb)
        if self.manifest is None:
            self.manifest = open_manifest(self.store)
        if self.loaders is None:
            self.loaders = loaders_for(self.spaces)
        if self.ocr_cache is None:
            self.ocr_cache = OcrCache(cache_file_for(self.store.local_path))

    @property
    def asr(self) -> AsrSpec | None:
        """The ASR model the loaders transcribe speech with (a loader's ``asr``), if any."""
        for loader in self.loaders or []:
            transcriber = getattr(loader, "asr", None)
            if transcriber is not None:
                return transcriber.spec()
        return None

    @property
    def fingerprint(self) -> Fingerprints:
        return Fingerprints.of(self.spaces.specs(), self.chunker.options, self.asr)

    def check_asr(self, *, retranscribe: bool = False, record: bool = False) -> None:
        """Refuse an ASR model other than the one the collection recorded, unless
        ``retranscribe`` (the changed fingerprint then re-reads the media files
        whose speech came from ASR, and only those); with
        ``record``, record this run's model (before any speech is written)."""
        from mmrag.asr.base import check_asr

        stored = self.store.asr_model() if self.store.spaces() else None
        if not retranscribe:
            check_asr(self.store.collection, stored, self.asr)
        if record and stored != self.asr:
            self.store.record_asr_model(self.asr)

    def run(
        self, paths: Iterable[str | Path], on_file: ProgressHook | None = None, *, prune: bool = False,
        retranscribe: bool = False, follow_links: bool = False,
    ) -> IngestReport:
        """Ingest ``paths``; with ``prune``, also remove the sources under them that are gone from disk.
        ``retranscribe``: accept an ASR model other than the collection's and read the files again.
        ``follow_links``: read symlinks that lead out of a folder being ingested (skipped by default)."""
        started = time.perf_counter()
        paths = list(paths)
        self.store.ensure_collection(self.spaces.specs())
        self.check_asr(retranscribe=retranscribe, record=True)
        report = IngestReport()

        def done(outcome: FileOutcome) -> None:
            report.files.append(outcome)
            if on_file:
                on_file(outcome)

        files, skipped = self.walk(paths, follow_links=follow_links)
        for outcome in skipped:
            done(outcome)
        pending: list[Prepared] = []

        def write_pending() -> None:
            for outcome in commit_many(self.store, self.manifest, self.fingerprint, pending, self.spaces.embed_chunks):
                done(outcome)
            pending.clear()

        triaged = (item for batch in batched(files, LOOKUP_BATCH) for item in self.triage(batch))
        with self._preparer() as prepare_all:
            for prepared in prepare_all(triaged):
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

    def files(self, paths: Iterable[str | Path], *, follow_links: bool = False) -> list[Path]:
        """The files a run over ``paths`` would visit (see ``walk``)."""
        return self.walk(paths, follow_links=follow_links)[0]

    def walk(self, paths: Iterable[str | Path], *, follow_links: bool = False) -> tuple[list[Path], list[FileOutcome]]:
        """The files a run over ``paths`` would visit (never the store's own
        files), each once even when ``paths`` overlap (``docs`` and
        ``docs/a.pdf``): two copies of a source in one batch would both be
        inserted. And the entries of folders it skips, with the reason
        (links out of the folder unless ``follow_links``, FIFOs, devices...)."""
        seen: set[Path] = set()
        files: list[Path] = []
        skipped: list[FileOutcome] = []
        exclude = [self.store.local_path] if self.store.local_path else []
        for item in walk(paths, exclude, follow_links=follow_links):
            if isinstance(item, FileOutcome):
                skipped.append(item)
                continue
            try:
                key = item.resolve()
            except (OSError, RuntimeError):  # a symlink loop given directly: kept, for its report line
                key = item.absolute()
            if key not in seen:
                seen.add(key)
                files.append(item)
        return files, skipped

    def triage(self, paths: list[Path]) -> list[FileState | FileOutcome]:
        """Per file, in order: an outcome when it needs no loading (unchanged, or
        an error), else its state to ingest. One manifest look-up for the batch;
        a file is hashed only when size and mtime do not settle it."""
        out: list[FileState | FileOutcome] = []
        for path, verdict in self.classify(paths):
            if isinstance(verdict, FileOutcome):
                out.append(verdict)
                continue
            change, state, entry = verdict
            try:
                if change is Change.TOUCH and self.manifest is not None and entry is not None:
                    # Same bytes under a new mtime: refresh the entry so the next run needs no hash.
                    self.manifest.put([state.entry(entry.chunks, entry.fingerprint)])
            except Exception as exc:
                out.append(failure(str(path), exc))
                continue
            out.append(FileOutcome(str(path), Status.UNCHANGED) if change in (Change.UNCHANGED, Change.TOUCH) else state)
        return out

    def classify(self, paths: list[Path]) -> list[tuple[Path, Verdict]]:
        """The one classifier ``triage`` and ``plan`` share: per file, an outcome
        when it cannot be read at all (missing, a symlink loop, not a regular
        file), else how it changed since its manifest entry (one look-up for the batch)."""
        refused: dict[Path, FileOutcome] = {}
        ids: dict[Path, str] = {}
        for path in paths:
            outcome = unreadable(path)
            if outcome is None:
                try:
                    ids[path] = doc_id_for(path)
                except Exception as exc:
                    outcome = failure(str(path), exc)
            if outcome is not None:
                refused[path] = outcome
        known = self.manifest.lookup(list(ids.values())) if self.manifest and ids else {}
        fingerprint = self.fingerprint
        out: list[tuple[Path, Verdict]] = []
        for path in paths:
            if path in refused:
                out.append((path, refused[path]))
                continue
            try:
                entry = known.get(ids[path])
                change, state = decide(FileState.of(path, ids[path]), entry, fingerprint)
                out.append((path, (change, state, entry)))
            except Exception as exc:
                out.append((path, failure(str(path), exc)))
        return out

    def ingest_file(self, path: Path) -> FileOutcome:
        """Ingest one file (skipped before loading when the manifest says it is unchanged)."""
        (item,) = self.triage([path])
        return item if isinstance(item, FileOutcome) else self._ingest(item)

    def _overlaps(self) -> bool:
        """Whether this run loads files in a worker process (``overlap``), checking it can be sent what it needs."""
        if not self.overlap:
            return False
        if not can_send(self.chunker, self.loaders, self.ocr_cache):
            raise InvalidArgument("overlap=True needs loaders and a chunker that pickle (no lambdas); pass overlap=False")
        return True

    @contextmanager
    def _preparer(self) -> Iterator[Callable[[Iterable[FileState | FileOutcome]], Iterator[Prepared | FileOutcome]]]:
        """``prepare`` over triaged items, in order: here, or a worker process ahead of the writer."""
        if not self._overlaps():
            yield lambda items: (item if isinstance(item, FileOutcome) else self._prepare(item) for item in items)
            return
        with PrepareAhead(self.chunker, self.loaders, self.ocr_cache, self.max_file_mb) as ahead:
            ahead.start()
            yield ahead.map

    def _prepare(self, state: FileState) -> Prepared | FileOutcome:
        with use_cache(self.ocr_cache):  # a picture seen in this run or an earlier one is not OCR'd again
            return prepare(self.chunker, state, self.loaders, self.max_file_mb)

    def _ingest(self, state: FileState) -> FileOutcome:
        prepared = self._prepare(state)
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

    def plan(
        self, paths: Iterable[str | Path], *, prune: bool = False, retranscribe: bool = False, follow_links: bool = False
    ) -> Plan:
        """What ``run`` would do, writing nothing. A file with no manifest entry
        whose source already has chunks (written by a killed run or before the
        manifest existed) is loaded and chunked to tell unchanged from replace."""
        paths = list(paths)
        stored = self.store.spaces()
        if stored:
            check_specs(self.store.collection, stored, self.spaces.specs())
        self.check_asr(retranscribe=retranscribe)
        files, skipped = self.walk(paths, follow_links=follow_links)
        plan = Plan(problems=skipped)
        for batch in batched(files, LOOKUP_BATCH):
            for path, verdict in self.classify(list(batch)):
                source = str(path)
                if isinstance(verdict, FileOutcome):
                    plan.problems.append(verdict)
                    continue
                change, state, _ = verdict
                try:
                    if change in (Change.UNCHANGED, Change.TOUCH):
                        plan.unchanged.append(source)
                        continue
                    screen(path, state.size, self.loaders, self.max_file_mb)  # as a run would skip or refuse it
                    existing = self.store.chunk_ids(state.doc_id) if change is Change.ADD else None
                    if not existing:
                        (plan.add if change is Change.ADD else plan.replace).append(source)
                        continue
                    prepared = self._prepare(state)
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
