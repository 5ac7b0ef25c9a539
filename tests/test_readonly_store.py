"""A store the user cannot write, for real: a store built by root and made
read-only, opened by ``mmrag search`` and ``mmrag ingest`` running as an
unprivileged user (``nobody``). Root writes through any file mode, which is why
tests/test_errors.py can only check the errno mapping; this one drops root with
setpriv (or runuser) and so needs to start as root. Milvus Lite writes its LOCK
file and the server's socket even to search, so a read-only store cannot be
searched either: both commands must say so in one sentence and leave it as it was.
Untested: a full disk (needs a small mounted file system, and no mount rights here)."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOBODY = 65534
MESSAGE = "cannot be written (Permission denied): Milvus Lite needs write access to its folder"


def _as_nobody() -> list[str]:
    if os.geteuid() != 0:
        pytest.skip("needs root, to run mmrag as an unprivileged user (a non-root user writes through nothing anyway)")
    if shutil.which("setpriv"):
        return ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
    if shutil.which("runuser"):
        return ["runuser", "-u", "nobody", "--"]
    pytest.skip("neither setpriv nor runuser is installed: cannot drop root")


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A folder the unprivileged user can reach (pytest's tmp_path is root's, mode 0700)."""
    folder = Path(tempfile.mkdtemp(prefix="mmrag-ro-"))
    folder.chmod(0o755)
    yield folder
    for p in [folder, *folder.rglob("*")]:
        if not p.is_symlink():
            p.chmod(p.stat().st_mode | stat.S_IWUSR)
    shutil.rmtree(folder)


def _mmrag(prefix: list[str], home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]), "HOME": str(home),
           "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    return subprocess.run([*prefix, sys.executable, "-m", "mmrag.cli", *args], capture_output=True, text=True,
                          env=env, timeout=300, cwd=home)


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*") if p.is_file()}


@pytest.mark.slow
def test_search_and_ingest_on_a_read_only_store_say_so_as_an_unprivileged_user(shared_dir: Path) -> None:
    nobody = _as_nobody()
    home = shared_dir / "home"
    home.mkdir()
    os.chown(home, NOBODY, NOBODY)
    probe = subprocess.run([*nobody, sys.executable, "-c", "import mmrag.cli"], capture_output=True, text=True,
                           env={**os.environ, "PYTHONPATH": str(ROOT), "HOME": str(home)}, cwd=home)
    if probe.returncode != 0:
        pytest.skip(f"the unprivileged user cannot import mmrag from this checkout and venv: {probe.stderr[-300:]}")
    (shared_dir / "a.txt").write_text("Otters hold hands while they sleep.")
    (shared_dir / "b.txt").write_text("Herons stand still in the shallows.")
    store = shared_dir / "s.db"
    built = _mmrag([], home, "ingest", str(shared_dir / "a.txt"), "--store", str(store))
    assert built.returncode == 0, built.stderr
    for p in [store, *store.rglob("*")]:
        p.chmod(p.stat().st_mode & ~0o222)  # read-only for everyone: root still writes, nobody cannot
    before = _snapshot(store)

    for args in (["search", "otters", "--store", str(store)],
                 ["ingest", str(shared_dir / "b.txt"), "--store", str(store)]):
        run = _mmrag(nobody, home, *args)
        assert run.returncode == 2, (args, run.stdout, run.stderr)
        assert run.stderr.strip() == f"error: the store {store} {MESSAGE}", args
        assert "Traceback" not in run.stderr + run.stdout
    assert _snapshot(store) == before
    as_root = _mmrag([], home, "search", "otters", "--store", str(store), "--mode", "bm25", "--json")
    assert as_root.returncode == 0 and "Otters hold hands" in as_root.stdout, as_root.stderr  # the store is intact
