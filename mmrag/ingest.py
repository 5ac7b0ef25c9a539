"""Ingestion: files -> elements -> chunks -> vectors -> store, one source at a time.

Each source is loaded and chunked completely before anything is written, and
written with ``write_source`` (new rows first, then the stale ones removed), so
a file that fails leaves nothing half-written and a re-run never duplicates.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from mmrag.chunking import Chunker
from mmrag.embedding.spaces import EmbeddingSpaces
from mmrag.errors import LoaderError, MmragError, UnsupportedFileError
from mmrag.loaders import Loader, find_loader
from mmrag.loaders.ocr import ocr_skipped_note
from mmrag.stores.base import VectorStore
from mmrag.types import stable_id


class Status(str, Enum):
    INGESTED = "ingested"
    UNCHANGED = "unchanged"
    SKIPPED = "skipped"
    FAILED = "failed"


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
            f"skipped: {self.count(Status.SKIPPED)}, failed: {self.count(Status.FAILED)}",
            f"chunks written: {self.chunks_written}",
            f"seconds: {self.seconds:.1f}",
        ]
        for f in self.files:
            if f.status in (Status.FAILED, Status.SKIPPED):
                out.append(f"{f.status.value}: {f.path}: {f.reason}")
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


@dataclass
class Ingestor:
    """Runs ingestion into one store with one embedder.

    Example::

        spaces = EmbeddingSpaces({"text": SentenceTransformerEmbedder()})
        ingestor = Ingestor(store, spaces, Chunker(spaces.tokenizer))
        report = ingestor.run(["examples/data"])
    """

    store: VectorStore
    spaces: EmbeddingSpaces
    chunker: Chunker
    loaders: list[Loader] | None = None  # None: mmrag.loaders.LOADERS

    def run(self, paths: Iterable[str | Path], on_file: ProgressHook | None = None) -> IngestReport:
        started = time.perf_counter()
        self.store.ensure_collection(self.spaces.specs())
        report = IngestReport()
        for path in self.files(paths):
            outcome = self.ingest_file(path)
            report.files.append(outcome)
            if on_file:
                on_file(outcome)
        if report.chunks_written:
            self.store.flush()
        report.seconds = time.perf_counter() - started
        return report

    def files(self, paths: Iterable[str | Path]) -> list[Path]:
        """The files a run over ``paths`` would visit (never the store's own files)."""
        return list(iter_files(paths, exclude=[self.store.local_path] if self.store.local_path else []))

    def ingest_file(self, path: Path) -> FileOutcome:
        source = str(path)
        try:
            if not path.exists():
                raise LoaderError(path, "no such file")
            loader, note = find_loader(path, self.loaders)
            notes = (note,) if note else ()
            doc_id = doc_id_for(path)
            chunks = list(self.chunker.chunk(doc_id, loader.load(path, source)))
            notes += tuple(sorted({str(c.metadata["decode_note"]) for c in chunks if c.metadata.get("decode_note")}))
            ocr_note = ocr_skipped_note(c.metadata for c in chunks)
            notes += (ocr_note,) if ocr_note else ()
            if not chunks:
                return FileOutcome(source, Status.SKIPPED, reason="no extractable content", notes=notes)
            wanted = {c.id for c in chunks}
            existing = self.store.chunk_ids(doc_id)
            if existing == wanted:
                return FileOutcome(source, Status.UNCHANGED, notes=notes)
            new = [c for c in chunks if c.id not in existing]
            self.store.write_source(doc_id, new, self.spaces.embed_chunks(new), keep=wanted)
            return FileOutcome(source, Status.INGESTED, chunks=len(new), notes=notes)
        except UnsupportedFileError as exc:
            return FileOutcome(source, Status.SKIPPED, reason=exc.problem)
        except LoaderError as exc:
            return FileOutcome(source, Status.FAILED, reason=exc.problem)
        except MmragError as exc:
            return FileOutcome(source, Status.FAILED, reason=str(exc))
        except Exception as exc:  # a loader library's own error: report it, go on
            return FileOutcome(source, Status.FAILED, reason=f"{type(exc).__name__}: {exc}")
