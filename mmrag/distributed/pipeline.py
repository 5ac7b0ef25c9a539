"""Ingestion as a Daft pipeline: the core's loaders, chunker, embedders, store
and manifest, scheduled by Daft on its local runner or on a Ray cluster.

    driver:  list files, stat them, one manifest look-up per batch
             (unchanged files never enter the pipeline)
    prepare: load + chunk one file          (class UDF: tokenizer once per worker)
    embed:   vectors in every space         (class UDF, batched: model once per worker)
    commit:  commit_many, the single engine's bulk write: on the driver for Milvus
             Lite (a file one process owns: the one serial stage); for a server,
             a batch class UDF per worker (one client each, a batch of files a call)
    driver:  outcomes streamed back into an IngestReport; --prune last

Each stage calls the same function single-process ingestion calls
(``mmrag.ingest.prepare`` and ``commit_many``), so both engines write the same rows
with the same ids. A source travels as ONE row from start to end: its chunks
are written together, then its manifest entry, so a killed run is finished by
running it again, exactly as with the single-process engine.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mmrag.chunking import Chunker, WindowOptions
from mmrag.distributed.records import (
    chunk_from_json,
    chunk_to_json,
    pack_vectors,
    unpack_vectors,
)
from mmrag.embedding.base import batched
from mmrag.embedding.sentence_transformer import DEFAULT_TEXT_MODEL
from mmrag.embedding.spaces import EmbeddingSpaces, split_rows, text_and_image_spaces
from mmrag.errors import InvalidArgument, MissingDependencyError, StoreError
from mmrag.ingest import (
    FileOutcome,
    Ingestor,
    IngestReport,
    Plan,
    Prepared,
    ProgressHook,
    Status,
    commit_many,
    loaders_for,
    prepare,
)
from mmrag.ingest.budget import DEFAULT_MAX_FILE_MB, check_budget
from mmrag.manifest import LOOKUP_BATCH, FileState, Fingerprints, Manifest, open_manifest
from mmrag.loaders import Loader
from mmrag.stores import VectorStore, open_store
from mmrag.types import Chunk

if TYPE_CHECKING:
    from mmrag.asr.base import AsrSpec

# mmrag does not report usage to third parties on its users' behalf; a user
# who wants Daft's telemetry sets DAFT_ANALYTICS_ENABLED=1 before importing.
os.environ.setdefault("DAFT_ANALYTICS_ENABLED", "0")
try:
    import daft
    from daft import DataType
except ImportError as exc:  # pragma: no cover - exercised without the extra
    raise MissingDependencyError("daft", "distributed", "The Daft ingestion engine") from exc

SpacesFactory = Callable[[], EmbeddingSpaces]
OK = "ok"
EMBED_BATCH_FILES = 16  # files per embedding call: their chunks are embedded together
COMMIT_BATCH_FILES = 64  # files per commit_many on a worker: one insert for the new sources among them
ROW_COLUMNS = ("path", "source", "doc_id", "size", "mtime_ns", "prepared", "vectors")  # what commit_rows reads

PREPARED = DataType.struct(
    {
        "status": DataType.string(),  # "ok", or a Status value when the file ends here
        "reason": DataType.string(),
        "notes": DataType.list(DataType.string()),
        "sha256": DataType.string(),
        "chunks": DataType.list(DataType.string()),  # chunk_to_json
    }
)
OUTCOME = DataType.struct(
    {
        "status": DataType.string(),
        "chunks": DataType.int64(),
        "reason": DataType.string(),
        "notes": DataType.list(DataType.string()),
    }
)


def text_spaces(model: str = DEFAULT_TEXT_MODEL, image_model: str | None = None) -> EmbeddingSpaces:
    """The CLI's spaces built on a worker: ``text``, and with ``image_model`` an
    ``image`` space (an image-text model such as CLIP) as ``mmrag ingest
    --image-model`` makes on one process. Each class UDF builds them once per
    worker (actor), and the models load there on first use."""
    return text_and_image_spaces(model, image_model)


@dataclass(frozen=True)
class StoreConfig:
    """How a worker opens the store. An open client cannot travel to another
    process; this recipe can, and each worker opens its own client from it."""

    uri: str
    collection: str = "mmrag"
    token: str | None = None

    def open(self) -> VectorStore:
        return open_store(self.uri, self.collection, token=self.token)


def _state(path: str, source: str, doc_id: str, size: int, mtime_ns: int, sha256: str | None = None) -> FileState:
    return FileState(Path(path), source, doc_id, size, mtime_ns, sha256)


def _loaders(spaces: EmbeddingSpaces, asr: AsrSpec | None) -> list[Loader]:
    """The single-process Ingestor's loaders, with the run's ASR model (its spec travels; each worker builds it)."""
    if asr is None:
        return loaders_for(spaces)
    from mmrag.asr import transcriber_for
    from mmrag.loaders import default_loaders

    return default_loaders(render_pages=spaces.embeds_images, asr=transcriber_for(asr.model_name, asr.language))


class _Prepare:
    """Loads and chunks files within the run's per-file budget; one tokenizer
    (and ASR model) per worker."""

    def __init__(
        self, spaces: SpacesFactory, window: WindowOptions, asr: AsrSpec | None = None,
        max_file_mb: float | None = DEFAULT_MAX_FILE_MB,
    ) -> None:
        built = spaces()
        self.chunker = Chunker(built.tokenizer, window)
        self.loaders = _loaders(built, asr)
        self.max_file_mb = max_file_mb

    @daft.method(return_dtype=PREPARED)
    def __call__(self, path: str, source: str, doc_id: str, size: int, mtime_ns: int) -> dict[str, Any]:
        result = prepare(self.chunker, _state(path, source, doc_id, size, mtime_ns), self.loaders, self.max_file_mb)
        if isinstance(result, FileOutcome):
            return {"status": result.status.value, "reason": result.reason, "notes": list(result.notes), "sha256": None, "chunks": []}
        return {
            "status": OK,
            "reason": None,
            "notes": list(result.notes),
            "sha256": result.state.sha256,
            "chunks": [chunk_to_json(c) for c in result.chunks],
        }


class _Embed:
    """Embeds the chunks of a batch of files in one call per space; one model
    per worker. Vectors leave as float32 bytes, one entry per space (sorted)."""

    def __init__(self, spaces: SpacesFactory) -> None:
        self.spaces = spaces()
        self.names = sorted(self.spaces.embedders)

    @daft.method.batch(return_dtype=DataType.list(DataType.binary()), batch_size=EMBED_BATCH_FILES)
    def __call__(self, prepared: daft.Series) -> list[list[bytes]]:
        rows = prepared.to_pylist()
        per_row = [[chunk_from_json(c) for c in (r["chunks"] or [])] for r in rows]
        flat = [c for chunks in per_row for c in chunks]
        vectors = self.spaces.embed_chunks(flat)
        parts = {name: split_rows(vectors[name], [len(c) for c in per_row]) for name in self.names}
        return [[pack_vectors(parts[name][i]) for name in self.names] for i in range(len(rows))]


class _Commit:
    """Writes the sources of a batch with ``commit_many`` (the bulk path of the
    single engine and of the driver's Lite commit); one store client per worker."""

    def __init__(self, store: StoreConfig, fingerprint: Fingerprints, dims: dict[str, int]) -> None:
        self.store = store.open()
        self.manifest = open_manifest(self.store)
        self.fingerprint = fingerprint
        self.dims = dims

    @daft.method.batch(return_dtype=OUTCOME, batch_size=COMMIT_BATCH_FILES)
    def __call__(
        self, path: daft.Series, source: daft.Series, doc_id: daft.Series, size: daft.Series, mtime_ns: daft.Series,
        prepared: daft.Series, vectors: daft.Series,
    ) -> list[dict[str, Any]]:
        columns = {name: col.to_pylist() for name, col in zip(ROW_COLUMNS, (path, source, doc_id, size, mtime_ns, prepared, vectors))}
        rows = [dict(zip(columns, values)) for values in zip(*columns.values())]
        outcomes = commit_rows(self.store, self.manifest, self.fingerprint, rows, self.dims)
        return [{"status": o.status.value, "chunks": o.chunks, "reason": o.reason, "notes": list(o.notes)} for o in outcomes]


def commit_rows(
    store: VectorStore, manifest: Manifest | None, fingerprint: Fingerprints, rows: Sequence[Mapping[str, Any]],
    dims: dict[str, int],
) -> list[FileOutcome]:
    """Write pipeline rows (``ROW_COLUMNS``) with ``commit_many``, one outcome per
    row in order: a file that ended in ``prepare`` keeps its outcome; the others
    are written as the single engine writes them (one insert for the sources the
    store has never seen, a replaced source alone with its stale chunks removed,
    manifest entries after every chunk), so nothing is half-written per source
    and a re-run writes nothing twice."""
    names = sorted(dims)
    outcomes: dict[int, FileOutcome] = {}
    items: list[tuple[int, Prepared]] = []
    rows_of: dict[str, tuple[dict[str, np.ndarray], int]] = {}  # chunk id -> (its source's vectors, its row there)
    for i, row in enumerate(rows):
        p = row["prepared"]
        if p["status"] != OK:
            outcomes[i] = FileOutcome(row["source"], Status(p["status"]), 0, p["reason"], tuple(p["notes"] or ()))
            continue
        state = _state(row["path"], row["source"], row["doc_id"], row["size"], row["mtime_ns"], p["sha256"])
        item = Prepared(state, [chunk_from_json(c) for c in p["chunks"]], tuple(p["notes"] or ()))
        vecs = {name: unpack_vectors(data, dims[name]) for name, data in zip(names, row["vectors"])}
        rows_of.update({c.id: (vecs, n) for n, c in enumerate(item.chunks)})
        items.append((i, item))

    def embed(chunks: list[Chunk]) -> dict[str, np.ndarray]:
        picked = [rows_of[c.id] for c in chunks]
        return {name: np.asarray([v[name][n] for v, n in picked], np.float32).reshape(-1, dims[name]) for name in names}

    written = commit_many(store, manifest, fingerprint, [item for _, item in items], embed) if items else []
    outcomes.update({i: outcome for (i, _), outcome in zip(items, written)})
    return [outcomes[i] for i in range(len(rows))]


def use_ray(address: str | None) -> None:
    """Run Daft on the Ray cluster at ``address`` (``auto`` or ``ray://head:10001``).
    Daft fixes its runner once per process; without this it uses the local
    runner (or whatever ``DAFT_RUNNER`` says)."""
    try:
        import ray  # noqa: F401
    except ImportError as exc:
        raise MissingDependencyError("ray", "distributed", "Running on a Ray cluster") from exc
    daft.set_runner_ray(address, noop_if_initialized=True)


@dataclass
class DaftIngestor:
    """Ingestion on Daft: the same result as ``Ingestor`` (same chunk ids and
    rows), with loading, chunking, embedding and writing spread over workers.

    Example::

        from mmrag.distributed import DaftIngestor, StoreConfig
        ingestor = DaftIngestor(StoreConfig("mmrag.db", "docs"), workers=2)
        report = ingestor.run(["examples/data"])        # Daft's local runner
        # on a cluster: a Milvus server and files every worker can read
        DaftIngestor(StoreConfig("http://milvus:19530", "docs"), ray_address="auto").run(["/shared/pdfs"])

    ``spaces`` is a picklable factory (a module-level function or a
    ``functools.partial``) so every worker builds, and loads, its own models.
    ``workers`` is the number of instances of each stage (processes on the
    local runner, actors on Ray); None lets Daft choose. ``max_file_mb`` is the
    per-file budget every worker applies, as ``Ingestor``'s (None: no limit).
    """

    store: StoreConfig
    spaces: SpacesFactory = text_spaces
    window: WindowOptions = field(default_factory=WindowOptions)
    workers: int | None = None
    ray_address: str | None = None
    asr: AsrSpec | None = None  # the ASR model of audio and video (built on each worker from this spec)
    max_file_mb: float | None = DEFAULT_MAX_FILE_MB

    def __post_init__(self) -> None:
        if self.workers is not None and self.workers < 1:
            raise InvalidArgument(f"workers must be >= 1, got {self.workers}")
        self.max_file_mb = check_budget(self.max_file_mb)

    def _driver(self) -> Ingestor:
        spaces = self.spaces()
        return Ingestor(
            self.store.open(), spaces, Chunker(spaces.tokenizer, self.window), loaders=_loaders(spaces, self.asr),
            max_file_mb=self.max_file_mb,
        )

    def plan(
        self, paths: Iterable[str | Path], *, prune: bool = False, retranscribe: bool = False, follow_links: bool = False
    ) -> Plan:
        """What ``run`` would do, writing nothing (decided on the driver, as for ``Ingestor``)."""
        driver = self._driver()
        try:
            return driver.plan(paths, prune=prune, retranscribe=retranscribe, follow_links=follow_links)
        finally:
            driver.store.close()

    def run(
        self, paths: Iterable[str | Path], on_file: ProgressHook | None = None, *, prune: bool = False,
        retranscribe: bool = False, follow_links: bool = False,
    ) -> IngestReport:
        """Ingest ``paths`` as ``Ingestor.run`` does, with the same options: the
        driver walks them with the single engine's walk (links leaving a folder
        are skipped with a note unless ``follow_links``), triages them by the
        manifest and hands only new and changed files to the workers."""
        started = time.perf_counter()
        paths = list(paths)
        driver = self._driver()
        try:
            if driver.store.local_path is not None and self.ray_address and not is_local_ray(self.ray_address):
                raise StoreError(
                    f"{driver.store.local_path} is a Milvus Lite file on this machine, and the Ray cluster at "
                    f"{self.ray_address} may not see the files or the store; use a Milvus server "
                    "(--store http://milvus:19530, see docs/scale-out.md) or a local cluster (127.0.0.1)"
                )
            if self.ray_address:
                use_ray(self.ray_address)
            specs = driver.spaces.specs()
            driver.store.ensure_collection(specs)
            driver.check_asr(retranscribe=retranscribe, record=True)
            outcomes: dict[int, FileOutcome] = {}

            def done(order: int, outcome: FileOutcome) -> None:
                outcomes[order] = outcome
                if on_file:
                    on_file(outcome)

            writes: DriverWrites | None = None
            todo: list[tuple[int, FileState]] = []
            files, skipped = driver.walk(paths, follow_links=follow_links)
            for order, outcome in enumerate(skipped, start=-len(skipped)):  # first in the report
                done(order, outcome)
            for start, batch in zip(range(0, len(files), LOOKUP_BATCH), batched(files, LOOKUP_BATCH)):
                for order, item in enumerate(driver.triage(list(batch)), start):
                    if isinstance(item, FileOutcome):
                        done(order, item)
                    else:
                        todo.append((order, item))
            if todo:
                dims = {name: spec.dim for name, spec in specs.items()}
                if driver.store.local_path is not None:
                    # An embedded store (Milvus Lite) is a file one process owns: workers
                    # load and embed, the driver writes, in bulk, as the single engine does.
                    writes = DriverWrites(driver, dims)
                    for order, outcome in writes.commit(self._pipeline(todo, driver.fingerprint, dims, commit=False)):
                        done(order, outcome)
                else:
                    for row in self._pipeline(todo, driver.fingerprint, dims, commit=True).iter_rows():
                        o = row["outcome"]
                        done(row["order"], FileOutcome(row["source"], Status(o["status"]), o["chunks"], o["reason"], tuple(o["notes"] or ())))
            report = IngestReport(files=[outcomes[i] for i in sorted(outcomes)])
            if writes is not None:
                report.driver_write_seconds = writes.seconds
            if prune:
                for outcome in driver.prune(paths):
                    report.files.append(outcome)
                    if on_file:
                        on_file(outcome)
            if report.chunks_written:
                driver.store.flush()  # sealed, indexed segments for later searches, as the single engine leaves them
        finally:
            driver.store.close()
        report.seconds = time.perf_counter() - started
        return report

    def _pipeline(
        self, todo: list[tuple[int, FileState]], fingerprint: Fingerprints, dims: dict[str, int], *, commit: bool
    ) -> daft.DataFrame:
        df = daft.from_pydict(
            {
                "order": [order for order, _ in todo],
                "path": [str(s.path) for _, s in todo],
                "source": [s.source for _, s in todo],
                "doc_id": [s.doc_id for _, s in todo],
                "size": [s.size for _, s in todo],
                "mtime_ns": [s.mtime_ns for _, s in todo],
            }
        )
        many = {} if self.workers is None else {"max_concurrency": self.workers}
        prepare_udf = daft.cls(**many)(_Prepare)(self.spaces, self.window, self.asr, self.max_file_mb)
        embed_cls = daft.cls(**many)(_Embed)
        cols = [df[c] for c in ("path", "source", "doc_id", "size", "mtime_ns")]
        df = df.with_column("prepared", prepare_udf(*cols))
        df = df.with_column("vectors", embed_cls(self.spaces)(df["prepared"]))
        if not commit:
            return df
        commit_udf = daft.cls(**many)(_Commit)(self.store, fingerprint, dims)  # a server: one client per worker
        df = df.with_column("outcome", commit_udf(*cols, df["prepared"], df["vectors"]))
        return df.select("order", "source", "outcome")


def is_local_ray(address: str) -> bool:
    """Whether ``address`` is a Ray cluster on this machine ('auto' finds one here)."""
    host = address.split("://", 1)[-1].rsplit(":", 1)[0].strip("[]")
    return address == "auto" or host in ("127.0.0.1", "localhost", "::1")


@dataclass
class DriverWrites:
    """The pipeline's prepared and embedded sources written from the driver with
    ``commit_rows``: one insert for up to ``batch_chunks`` chunks of new sources,
    as the single-process engine writes them. ``seconds`` is the time spent
    writing: the serial stage of a run on an embedded store."""

    driver: Ingestor
    dims: dict[str, int]
    seconds: float = 0.0

    def commit(self, rows: daft.DataFrame) -> Iterable[tuple[int, FileOutcome]]:
        pending: list[dict[str, Any]] = []
        for row in rows.iter_rows():
            pending.append(row)
            if sum(len(r["prepared"]["chunks"] or []) for r in pending) >= self.driver.batch_chunks:
                yield from self._write(pending)
                pending = []
        if pending:
            yield from self._write(pending)

    def _write(self, rows: list[dict[str, Any]]) -> list[tuple[int, FileOutcome]]:
        started = time.perf_counter()
        d = self.driver
        outcomes = commit_rows(d.store, d.manifest, d.fingerprint, rows, self.dims)
        self.seconds += time.perf_counter() - started
        return [(row["order"], outcome) for row, outcome in zip(rows, outcomes)]
