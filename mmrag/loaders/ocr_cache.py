"""OCR results by picture content, so each distinct picture is read once.

Decks repeat the same template background and logo on every slide, and a folder
repeats them in every deck: on 53 real files, 87% of ingest time went to OCR of
such repeats. The key is a hash of the decoded pixels (not of the file bytes, so
the same picture re-encoded in another deck still hits) plus what decides the
text (the OCR engine's version and settings). In memory the cache is a bounded
LRU for the process; with a ``path`` it is also a SQLite file, so a later run
(and the other processes of an overlapped run) reuse what was read before.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from mmrag.errors import InvalidArgument

if TYPE_CHECKING:
    from PIL import Image

MEMORY_ENTRIES = 4096  # texts of a few hundred bytes: a few MB at most


def picture_key(image: Image.Image, salt: str) -> str:
    """A digest of the decoded pixels, their size and mode, and ``salt``."""
    digest = hashlib.blake2b(digest_size=20)
    digest.update(f"{salt}|{image.mode}|{image.width}x{image.height}|".encode())
    digest.update(image.tobytes())
    return digest.hexdigest()


@dataclass
class OcrStats:
    """What a cache saved: engine calls made, and answers served without one."""

    engine_calls: int = 0
    memory_hits: int = 0
    file_hits: int = 0


@dataclass
class OcrCache:
    """``text(image, read)``: the cached text of ``image``, else ``read(image)``, stored.

    Example::

        cache = OcrCache(Path("store/.ocr-cache.sqlite"))
        with use_cache(cache):
            elements = list(PptxLoader().load(deck, str(deck)))   # a repeated logo is read once
        cache.stats.engine_calls
    """

    path: Path | None = None
    max_entries: int = MEMORY_ENTRIES
    stats: OcrStats = field(default_factory=OcrStats)

    def __post_init__(self) -> None:
        if self.max_entries < 1:
            raise InvalidArgument(f"max_entries must be >= 1, got {self.max_entries}")
        self._memory: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None

    def text(self, image: Image.Image, read: Callable[[Image.Image], str], salt: str) -> str:
        key = picture_key(image, salt)
        with self._lock:
            if key in self._memory:
                self._memory.move_to_end(key)
                self.stats.memory_hits += 1
                return self._memory[key]
        stored = self._file_get(key)
        if stored is not None:
            self.stats.file_hits += 1
            self._remember(key, stored)
            return stored
        text = read(image)
        self.stats.engine_calls += 1
        self._remember(key, text)
        self._file_put(key, text)
        return text

    def _remember(self, key: str, text: str) -> None:
        with self._lock:
            self._memory[key] = text
            self._memory.move_to_end(key)
            while len(self._memory) > self.max_entries:
                self._memory.popitem(last=False)

    def _connection(self) -> sqlite3.Connection | None:
        if self.path is None:
            return None
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # check_same_thread=False: calls are serialised by self._lock
            db = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")  # readers in other processes do not block the writer
            db.execute("CREATE TABLE IF NOT EXISTS ocr (key TEXT PRIMARY KEY, text TEXT NOT NULL)")
            db.commit()
            self._db = db
        return self._db

    def _file_get(self, key: str) -> str | None:
        with self._lock:
            db = self._connection()
            if db is None:
                return None
            row = db.execute("SELECT text FROM ocr WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def _file_put(self, key: str, text: str) -> None:
        with self._lock:
            db = self._connection()
            if db is None:
                return
            db.execute("INSERT OR REPLACE INTO ocr (key, text) VALUES (?, ?)", (key, text))
            db.commit()

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def __getstate__(self) -> dict:
        """Picklable for worker processes: they get the path, not the connection or memory."""
        return {"path": self.path, "max_entries": self.max_entries, "stats": OcrStats()}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.__post_init__()


def cache_file_for(store_path: Path | None) -> Path | None:
    """Where an embedded store's OCR cache lives: a hidden file beside the store
    (whether or not the store exists yet), so a folder walk skips it. None for a
    server store: the cache is then the run's memory only."""
    if store_path is None:
        return None
    return store_path.parent / f".{store_path.name}.ocr-cache.sqlite"


_PROCESS_CACHE = OcrCache()
_current: ContextVar[OcrCache] = ContextVar("mmrag_ocr_cache", default=_PROCESS_CACHE)


def current_cache() -> OcrCache:
    """The cache OCR calls use now: the one ``use_cache`` set, else the process's in-memory one."""
    return _current.get()


@contextmanager
def use_cache(cache: OcrCache) -> Iterator[OcrCache]:
    """OCR inside the block reads and fills ``cache`` (an ingest run sets its store's)."""
    token = _current.set(cache)
    try:
        yield cache
    finally:
        _current.reset(token)
