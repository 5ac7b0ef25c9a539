"""A Milvus Lite store on disk: its path checked before pymilvus opens (and so
creates) it, and a failed open said in words.

Milvus Lite keeps a store in a folder (``LOCK``, ``collections/``,
``databases/``) that it creates on first open, and holds an exclusive ``flock``
on ``LOCK`` while it is open. Opened blindly, a regular file fails with
pymilvus' "Open local milvus failed" after a logged traceback, an unrelated
folder gets Milvus' files written among the user's, and a search on a
mistyped path leaves an empty store behind. So the path is checked first.
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mmrag.errors import StoreError

LOCK = "LOCK"
_STORE_DIRS = ("collections", "databases")
_SHOWN = 3


def is_lite_store(folder: Path) -> bool:
    """Whether ``folder`` looks like a folder Milvus Lite made."""
    return (folder / LOCK).is_file() and any((folder / d).is_dir() for d in _STORE_DIRS)


def check_path(path: Path, *, create: bool) -> None:
    """Refuse, before anything is written, a path that is not a Milvus Lite
    store and should not become one; with ``create=False`` also a missing one."""
    if not path.exists():
        if not create:
            raise StoreError(f"the store {path} does not exist: ingest files into it first (mmrag ingest PATHS --store {path})")
        return
    if not path.is_dir():
        raise StoreError(
            f"{path} is a file, not a Milvus Lite store (a store is a folder Milvus Lite makes): choose another store path"
        )
    if is_lite_store(path):
        return
    names = sorted(p.name for p in path.iterdir())
    if not names and create:
        return  # an empty folder made for the store
    if not names:
        raise StoreError(f"the store {path} does not exist (an empty folder): ingest files into it first")
    shown = ", ".join(names[:_SHOWN]) + (f" and {len(names) - _SHOWN} more" if len(names) > _SHOWN else "")
    raise StoreError(
        f"{path} is a folder that is not a Milvus Lite store (it holds {shown}): choose another store path, "
        "so Milvus' files are not written among these"
    )


class _Keep(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def opening(path: Path) -> Iterator[None]:
    """Open the store at ``path`` inside this block: what Milvus Lite logs while
    it starts is kept off the console, and a failure becomes a StoreError that
    says why (another process holds the store, it is read-only, the disk is full)."""
    logger = logging.getLogger("milvus_lite")
    kept = _Keep()
    propagate = logger.propagate
    logger.addHandler(kept)
    logger.propagate = False
    try:
        yield
    except Exception as exc:
        causes = [r.exc_info[1] for r in kept.records if r.exc_info and r.exc_info[1] is not None]
        raise open_error(path, causes[-1] if causes else exc) from exc
    finally:
        logger.removeHandler(kept)
        logger.propagate = propagate


def open_error(path: Path, cause: BaseException) -> StoreError:
    """The sentence for a store that failed to open, from Milvus Lite's own exception."""
    seen: list[BaseException] = []
    while cause is not None and cause not in seen:
        seen.append(cause)
        cause = cause.__cause__ or cause.__context__
    for exc in seen:
        if type(exc).__name__ == "DataDirLockedError" or isinstance(exc, BlockingIOError):
            return StoreError(
                f"the store {path} is in use by another process (an ingest, a search or a server has it open): "
                "wait for it to finish, or stop it, and run again"
            )
        if isinstance(exc, OSError) and exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            return StoreError(f"the store {path} cannot be written ({exc.strerror}): Milvus Lite needs write access to its folder")
        if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
            return StoreError(f"the disk holding the store {path} is full: free some space and run again")
    return StoreError(f"cannot open the Milvus Lite store {path}: {seen[0] if seen else 'unknown error'}")


def discard(uri: str) -> None:
    """Delete the store at ``uri`` (a path as given to pymilvus) after stopping
    this process's Milvus Lite server for it: the server outlives its clients
    and would go on writing into the folder removed under it."""
    import os
    import shutil

    try:
        from milvus_lite.server_manager import server_manager_instance
    except ImportError:  # pragma: no cover - Milvus Lite is what made the folder
        server_manager_instance = None
    path = Path(uri).expanduser()
    if server_manager_instance is not None:
        for key in {os.path.abspath(uri), str(path.resolve())}:
            server_manager_instance.release_server(key)
    if path.is_dir():
        shutil.rmtree(path)
