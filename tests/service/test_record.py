"""The record a running server leaves in its store's folder: written and removed around
the block, read back, and ignored where its process is gone or it is not a record."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mmrag.service.record import RECORD, ServerRecord, lite_folder, local_url, recorded, running_server


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait(timeout=60)
    return proc.pid


def test_a_record_lives_as_long_as_its_block(tmp_path: Path) -> None:
    store = tmp_path / "s.db"
    store.mkdir()
    with recorded(str(store), "docs", "http://127.0.0.1:8765"):
        on_disk = json.loads((store / RECORD).read_text())
        assert on_disk == {"url": "http://127.0.0.1:8765", "pid": os.getpid(), "collection": "docs"}
        assert running_server(str(store)) is None  # this process's own record is not a server to ask
    assert sorted(p.name for p in store.iterdir()) == []  # removed, no partial file left


def test_a_record_is_removed_when_the_block_fails(tmp_path: Path) -> None:
    store = tmp_path / "s.db"
    store.mkdir()
    with pytest.raises(RuntimeError), recorded(f"milvus:///{store}", "mmrag", "http://127.0.0.1:1"):
        assert (store / RECORD).is_file()
        raise RuntimeError("the server crashed")
    assert not (store / RECORD).exists()


def test_a_live_process_counts_and_a_dead_one_or_a_stray_file_does_not(tmp_path: Path) -> None:
    store = tmp_path / "s.db"
    store.mkdir()
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (store / RECORD).write_text(json.dumps({"url": "http://127.0.0.1:9", "pid": alive.pid, "collection": "c"}))
        assert running_server(str(store)) == ServerRecord("http://127.0.0.1:9", alive.pid, "c")
    finally:
        alive.kill()
        alive.wait(timeout=60)
    (store / RECORD).write_text(json.dumps({"url": "http://127.0.0.1:9", "pid": _dead_pid(), "collection": "c"}))
    assert running_server(str(store)) is None
    for junk in ("", "{", "[1]", '{"url": "u"}', '{"url": "u", "pid": "x", "collection": "c"}'):
        (store / RECORD).write_text(junk)
        assert running_server(str(store)) is None, junk


def test_only_milvus_lite_stores_have_a_folder_to_record_in(tmp_path: Path) -> None:
    assert lite_folder(str(tmp_path / "a.db")) == (tmp_path / "a.db").resolve()
    assert lite_folder(f"milvus:///{tmp_path}/a.db") == (tmp_path / "a.db").resolve()
    for remote in ("milvus://host:19530", "http://host:19530", "weaviate://host:8080", "no-suffix"):
        assert lite_folder(remote) is None
    assert running_server("milvus://host:19530") is None
    with recorded("weaviate://host:8080", "c", "http://127.0.0.1:1"):
        pass  # nothing to write, nothing raised


@pytest.mark.parametrize(("host", "url"), [
    ("127.0.0.1", "http://127.0.0.1:8765"), ("0.0.0.0", "http://127.0.0.1:8765"),
    ("::", "http://[::1]:8765"), ("::1", "http://[::1]:8765"), ("localhost", "http://localhost:8765"),
])
def test_the_recorded_address_is_one_this_machine_can_reach(host: str, url: str) -> None:
    assert local_url(host, 8765) == url
