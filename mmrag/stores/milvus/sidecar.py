"""Token vectors of a Milvus Lite store in a SQLite file inside its folder.

Why not token rows in Lite: Milvus Lite hands query results back row by row
through Python, so reading the 100 candidates' token vectors of a late search
took 4.8 s at 500 ColPali-sized pages, nearly all of the search
(benchmarks/results/late_first_stage_store.json). The standard library's SQLite
(transactional, one file) reads the same vectors as float16 blobs in
milliseconds.

A row is ``(collection, space, chunk key, gen)`` -> its source's key, the token
count and the vectors. ``gen`` is the write's generation that the chunk row's
``late_gen`` names, so a half-done write is never read: tokens are committed
before the chunk rows that point at them, and rows of other generations are
removed only after those are in. ``owner`` is the collection's token (stamped on
the Milvus collection when it is made): rows of an earlier collection of the
same name are never read and are removed on open.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from mmrag.embedding.base import batched
from mmrag.errors import StoreError

SIDECAR_FILE = "mmrag_tokens.sqlite"
_FP16_MAX = 65504.0  # the largest finite float16: vectors beyond it are kept as float32
_PARAMS = 500  # keys per `IN (...)`: well under SQLite's bound-parameter limit

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tokens (
    collection TEXT NOT NULL, owner TEXT NOT NULL, space TEXT NOT NULL, chunk TEXT NOT NULL,
    gen TEXT NOT NULL, doc TEXT NOT NULL, n INTEGER NOT NULL, dim INTEGER NOT NULL,
    fp16 INTEGER NOT NULL, vec BLOB NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS tokens_key ON tokens (collection, space, chunk, gen);
CREATE INDEX IF NOT EXISTS tokens_doc ON tokens (collection, doc);
"""


def encode(tokens: Any) -> tuple[int, int, bool, bytes]:
    """``(n, dim, fp16, blob)`` for an ``(n, dim)`` matrix: float16 unless a value would not fit one."""
    mat = np.asarray(tokens, dtype=np.float32)
    fp16 = bool(np.all(np.abs(mat) <= _FP16_MAX))
    return mat.shape[0], mat.shape[1], fp16, mat.astype(np.float16 if fp16 else np.float32).tobytes()


def decode(n: int, dim: int, fp16: int, blob: bytes) -> np.ndarray:
    """The float32 ``(n, dim)`` matrix ``encode`` stored."""
    return np.frombuffer(blob, dtype=np.float16 if fp16 else np.float32).reshape(n, dim).astype(np.float32)


class TokenSidecar:
    """The token vectors of one collection in ``<store folder>/mmrag_tokens.sqlite``.

    Keys are the Milvus row keys (``rows.row_key``) of chunks and sources. One
    connection per store, shared across threads under a lock (the Lite store
    itself is held by one process at a time).
    """

    def __init__(self, folder: Path, collection: str, owner: str) -> None:
        self.path = folder / SIDECAR_FILE
        self.collection, self.owner = collection, owner
        try:
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            # 64 KB pages (set before the file's first table; later opens keep what it has): a
            # 260 KB page of ColPali tokens spans 5 pages, not 65, and 100 are read 3x faster.
            self._db.execute("PRAGMA page_size=65536")
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")  # a commit survives a crash, as the chunk rows after it assume
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the token file {self.path}: {exc}") from exc
        self._lock = threading.Lock()
        with self._tx() as db:  # rows of an earlier collection of this name
            db.execute("DELETE FROM tokens WHERE collection = ? AND owner != ?", (collection, owner))

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One transaction under the lock: committed on success, rolled back on any
        error; SQLite's own errors come out as a StoreError naming the file."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                raise StoreError(f"the token file {self.path}: {exc}") from exc

    def put(self, space: str, rows: Iterable[tuple[str, str, Any]], gen: str) -> None:
        """Store ``(chunk key, doc key, tokens)`` rows under ``gen``, all or none."""
        values = ((self.collection, self.owner, space, chunk, gen, doc, *encode(tokens)) for chunk, doc, tokens in rows)
        with self._tx() as db:
            db.executemany("INSERT OR REPLACE INTO tokens VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", values)

    def read(self, space: str, gens: Mapping[str, str]) -> dict[str, np.ndarray]:
        """The token matrices of these chunk keys, each only of its current generation (``gens``)."""
        out: dict[str, np.ndarray] = {}
        with self._tx() as db:
            for part in batched(list(gens), _PARAMS):
                marks = ",".join("?" * len(part))
                cursor = db.execute(
                    f"SELECT chunk, gen, n, dim, fp16, vec FROM tokens WHERE collection = ? AND space = ? "
                    f"AND chunk IN ({marks}) AND owner = ?", (self.collection, space, *part, self.owner))
                for chunk, gen, n, dim, fp16, blob in cursor:
                    if gens[chunk] == gen:
                        out[chunk] = decode(n, dim, fp16, blob)
        return out

    def settle(self, doc: str, gen: str, kept: set[str]) -> None:
        """After source ``doc`` was written under ``gen``: remove its rows of other
        generations (the replaced versions, and any a crashed write left), except
        those of the ``kept`` chunk keys, which the write left as they were."""
        with self._tx() as db:
            rows = db.execute("SELECT rowid, chunk FROM tokens WHERE collection = ? AND doc = ? AND gen != ?",
                              (self.collection, doc, gen)).fetchall()
            db.executemany("DELETE FROM tokens WHERE rowid = ?", [(r,) for r, chunk in rows if chunk not in kept])

    def drop_gen(self, gen: str) -> None:
        """Remove every row of one write (undoing it)."""
        with self._tx() as db:
            db.execute("DELETE FROM tokens WHERE collection = ? AND gen = ?", (self.collection, gen))

    def delete_chunks(self, chunks: Sequence[str]) -> None:
        self._delete("chunk", chunks)

    def delete_docs(self, docs: Sequence[str]) -> None:
        """Every row of these sources, including any a crashed write left without a chunk row."""
        self._delete("doc", docs)

    def _delete(self, column: str, keys: Sequence[str], extra: str = "", args: tuple[str, ...] = ()) -> None:
        with self._tx() as db:
            for part in batched(list(keys), _PARAMS):
                marks = ",".join("?" * len(part))
                db.execute(f"DELETE FROM tokens WHERE collection = ? AND {column} IN ({marks}) {extra}",
                           (self.collection, *part, *args))

    def checkpoint(self) -> None:
        """Fold the write-ahead log into the file and truncate it (after an ingest):
        the log otherwise keeps its largest size, 64 MB and more, on disk."""
        with self._lock:
            try:
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error as exc:
                raise StoreError(f"the token file {self.path}: {exc}") from exc

    def count(self) -> int:
        """Rows held for this collection (every generation)."""
        with self._tx() as db:
            return int(db.execute("SELECT count(*) FROM tokens WHERE collection = ?", (self.collection,)).fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()

