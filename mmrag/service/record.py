"""Which running server holds a Milvus Lite store, so that a plain ``mmrag search`` can ask it.

Milvus Lite keeps an exclusive lock on a store's folder while one process has it
open: while ``mmrag serve`` runs, no other process can read the store at all. So the
server writes where it listens (``mmrag-server.json``: URL, pid, collection) into the
store's folder while it runs and removes it when it stops, and a search on that store
asks the server instead of failing on the lock. A record whose process is gone (a
server killed with SIGKILL) is stale and ignored; so is one whose server does not
answer (the search then opens the store itself, which works or says who holds it).

Only the standard library: this is read on the path of every cold ``mmrag search``.
"""

from __future__ import annotations

import json
import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from mmrag.errors import MmragError

RECORD = "mmrag-server.json"


@dataclass(frozen=True)
class ServerRecord:
    """A running server: where it answers, its process, and the collection it serves."""

    url: str
    pid: int
    collection: str


def lite_folder(store: str) -> Path | None:
    """The folder of a Milvus Lite ``--store`` (``x.db`` or ``milvus:///x.db``); None for a server or Weaviate."""
    from mmrag.stores.uris import is_weaviate_uri, parse_milvus_uri

    if is_weaviate_uri(store):
        return None
    try:
        path, is_lite = parse_milvus_uri(store)
    except MmragError:
        return None
    return Path(path).expanduser().resolve() if is_lite else None


def local_url(host: str, port: int) -> str:
    """The address a client on this machine reaches a server bound to ``host:port`` at."""
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


@contextmanager
def recorded(store: str, collection: str, url: str) -> Iterator[None]:
    """Record the server at ``url`` in ``store``'s folder for the block's duration (a Milvus Lite store only)."""
    folder = lite_folder(store)
    if folder is None or not folder.is_dir():
        yield
        return
    path = folder / RECORD
    partial = folder / f".{RECORD}.{os.getpid()}"
    partial.write_text(json.dumps(asdict(ServerRecord(url, os.getpid(), collection))), encoding="utf-8")
    os.replace(partial, path)  # a reader never sees half a record
    # uvicorn re-raises the SIGTERM it stopped on once it is done; by default that ends the
    # process before this block's ``finally``, so it becomes SystemExit here (as SIGINT is KeyboardInterrupt).
    previous = signal.signal(signal.SIGTERM, _exit_on_term) if threading.current_thread() is threading.main_thread() else None
    try:
        yield
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        mine = read(path)
        if mine is not None and mine.pid == os.getpid():
            path.unlink(missing_ok=True)


def _exit_on_term(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def running_server(store: str) -> ServerRecord | None:
    """The server recorded in ``store``'s folder if its process is alive, else None."""
    folder = lite_folder(store)
    found = read(folder / RECORD) if folder is not None else None
    if found is None or found.pid == os.getpid() or not _alive(found.pid):
        return None
    return found


def read(path: Path) -> ServerRecord | None:
    """The record at ``path``; None where there is none or it is not one (a stray or partial file)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return ServerRecord(str(data["url"]), int(data["pid"]), str(data["collection"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    except (OSError, OverflowError):
        return False
    return True
