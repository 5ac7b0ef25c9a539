"""What a run did (``IngestReport``) or would do (``Plan``), per file."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from mmrag.errors import LoaderError, MmragError, UnsupportedFileError
from mmrag.loaders.failures import explain, kind_of


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
    # The Daft engine on an embedded store: seconds its driver spent writing,
    # the one stage that does not spread over workers (None where none is measured).
    driver_write_seconds: float | None = None

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
            "driver_write_seconds": None if self.driver_write_seconds is None else round(self.driver_write_seconds, 3),
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


ProgressHook = Callable[[FileOutcome], None]


def failure(source: str, exc: Exception) -> FileOutcome:
    """The outcome for a file whose step raised: skipped when no loader takes
    it, failed (with the reason) otherwise, so the other files go on."""
    if isinstance(exc, UnsupportedFileError):
        return FileOutcome(source, Status.SKIPPED, reason=exc.problem)
    if isinstance(exc, LoaderError):
        return FileOutcome(source, Status.FAILED, reason=exc.problem)
    if isinstance(exc, MmragError):
        return FileOutcome(source, Status.FAILED, reason=str(exc))
    return FileOutcome(source, Status.FAILED, reason=explain(exc, kind_of(source)))  # a loader library's own error


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
