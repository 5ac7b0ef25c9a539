"""Load and chunk in a worker process while the caller embeds and writes.

On two cores the serial path leaves one idle most of the time: while a PDF is
parsed and its scans OCR'd nothing is embedded, and while a batch is embedded
nothing is read. ``PrepareAhead`` runs ``prepare`` in one child process, at most
``ahead`` files ahead of the caller, and hands the results back in submission
order, so chunk ids, batches and the report are those of the serial path and
memory stays bounded by ``ahead`` prepared files.

The child is spawned (not forked: a fork after torch and onnxruntime started
their thread pools can deadlock) and builds nothing itself: it is sent the
chunker, the loaders and the OCR cache (its path; the SQLite file is shared, so
a picture one process read is a hit for the other). Per-file errors and notes
travel back inside the ``FileOutcome``/``Prepared`` that ``prepare`` returns. If
the child dies (a parser crashing the interpreter), the file it was reading is
reported failed and a fresh child takes the rest.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import threading
import time
import warnings
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

from mmrag.chunking import Chunker
from mmrag.errors import InvalidArgument
from mmrag.ingest.report import FileOutcome, failure
from mmrag.ingest.steps import Prepared, prepare
from mmrag.loaders import Loader
from mmrag.loaders.ocr import share_cores
from mmrag.loaders.ocr_cache import OcrCache, OcrStats, use_cache
from mmrag.manifest import FileState

# Files prepared ahead of the writer: enough to cover one embedding batch of
# small files, few enough that a run of long PDFs holds only a handful in memory.
AHEAD = 4
PARENT_POLL_S = 1.0


def can_send(*objects: object) -> bool:
    """Whether ``objects`` pickle, so a worker process can be given them (a
    custom loader or chunk boundary defined as a lambda cannot)."""
    try:
        pickle.dumps(objects)
    except Exception:
        return False
    return True


@dataclass
class _Job:
    item: FileState | FileOutcome
    future: Future | None = None


class PrepareAhead:
    """``map(items)``: ``prepare`` of each ``FileState`` (a ``FileOutcome`` passes
    through), in order, computed in a worker process up to ``ahead`` items early.

    Example::

        with PrepareAhead(chunker, loaders, ocr_cache) as ahead:
            for prepared in ahead.map(states):
                ...  # embed and write while the next files are read
    """

    def __init__(
        self, chunker: Chunker, loaders: list[Loader], ocr_cache: OcrCache, max_file_mb: float | None = None, ahead: int = AHEAD
    ) -> None:
        if ahead < 1:
            raise InvalidArgument(f"ahead must be >= 1, got {ahead}")
        self._setup = (chunker, loaders, ocr_cache, max_file_mb)
        self.ahead = ahead
        self.ocr_stats = ocr_cache.stats  # the worker's OCR counts are added here as results arrive
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> PrepareAhead:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def start(self) -> Future:
        """Start the worker now, without waiting: it takes seconds to import the
        loaders and the tokenizer, which overlap the caller's model loading."""
        return self._executor().submit(_ready)

    def map(self, items: Iterable[FileState | FileOutcome]) -> Iterator[Prepared | FileOutcome]:
        window: deque[_Job] = deque()
        for item in items:
            window.append(self._submit(_Job(item)))
            while len(window) > self.ahead:
                yield self._result(window)
        while window:
            yield self._result(window)

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn"), initializer=_init, initargs=self._setup
            )
        return self._pool

    def _submit(self, job: _Job) -> _Job:
        if isinstance(job.item, FileState):
            job.future = self._executor().submit(_prepare, job.item)
        return job

    def _result(self, window: deque[_Job]) -> Prepared | FileOutcome:
        job = window.popleft()
        if job.future is None:
            return job.item  # type: ignore[return-value]  # an outcome known before loading
        try:
            prepared, stats = job.future.result()
        except BrokenProcessPool as exc:
            # One worker, files in order: the first broken job is the file it died on.
            self._pool = None
            for later in window:
                self._submit(later)
            return failure(job.item.source, RuntimeError(f"the reading process died while reading this file ({exc})"))
        self.ocr_stats.engine_calls += stats.engine_calls
        self.ocr_stats.memory_hits += stats.memory_hits
        self.ocr_stats.file_hits += stats.file_hits
        return prepared


_worker: tuple[Chunker, list[Loader], OcrCache, float | None] | None = None


def _init(chunker: Chunker, loaders: list[Loader], ocr_cache: OcrCache, max_file_mb: float | None) -> None:
    global _worker
    warnings.simplefilter("ignore")  # a file's warnings are captured into its note by prepare; nothing else is said
    _worker = (chunker, loaders, ocr_cache, max_file_mb)
    share_cores()  # the main process embeds on the other core meanwhile
    threading.Thread(target=_exit_with, args=(os.getppid(),), daemon=True, name="mmrag-parent-watch").start()


def _exit_with(parent: int) -> None:
    """End this worker soon after its parent is gone (killed mid-run): a pool
    worker only notices at its next job, and could OCR for minutes first."""
    while os.getppid() == parent:
        time.sleep(PARENT_POLL_S)
    os._exit(1)


def _ready() -> bool:
    import mmrag.loaders.ocr  # noqa: F401  # the heaviest imports, done before the first file

    return True


def _prepare(state: FileState) -> tuple[Prepared | FileOutcome, OcrStats]:
    assert _worker is not None, "the worker was not initialised"
    chunker, loaders, cache, max_file_mb = _worker
    before = OcrStats(cache.stats.engine_calls, cache.stats.memory_hits, cache.stats.file_hits)
    with use_cache(cache):
        prepared = prepare(chunker, state, loaders, max_file_mb)
    after = cache.stats
    return prepared, OcrStats(
        after.engine_calls - before.engine_calls, after.memory_hits - before.memory_hits, after.file_hits - before.file_hits
    )
