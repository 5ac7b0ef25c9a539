"""A run killed at any point and run again completes with no duplicates and
nothing missing: real subprocesses, killed with SIGINT (Ctrl-C) and SIGKILL
mid-run, on a real Milvus Lite file, compared with a clean run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from mmrag.index import Index
from mmrag.ingest import Status, doc_id_for

N_FILES = 40

DRIVER = textwrap.dedent(
    """
    import os, sys
    from mmrag.index import Index

    store, folder, progress = sys.argv[1:4]
    index = Index(store, "resume")
    ingestor = index.ingestor
    ingestor.batch_chunks = 4  # about two files per batch: many points to be killed at
    with open(progress, "a") as log:
        def done(outcome):
            log.write(f"{outcome.status.value} {outcome.path}\\n")
            log.flush()
            os.fsync(log.fileno())
        report = ingestor.run([folder], on_file=done)
    index.close()
    print(report.to_dict()["files_ingested"], report.to_dict()["files_unchanged"])
    """
)


def make_corpus(root: Path) -> None:
    root.mkdir()
    words = "bees hives honey reefs coral fish solar panels roofs espresso crema grinder kites owls wind".split()
    for i in range(N_FILES):
        paras = [" ".join(words[(i + j + k) % len(words)] for k in range(8)) + f". Paragraph {j} of file {i}." for j in range(2)]
        (root / f"f{i:03d}.md").write_text(f"# File {i}\n\n" + "\n\n".join(paras) + "\n")


def start(store: str, folder: Path, progress: Path) -> subprocess.Popen:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "OMP_NUM_THREADS": "1", "PYTHONPATH": os.getcwd()}
    return subprocess.Popen(
        [sys.executable, "-c", DRIVER, store, str(folder), str(progress)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def kill_after(proc: subprocess.Popen, progress: Path, at_least: int, sig: signal.Signals) -> int:
    """Wait until ``at_least`` more files are done, then send ``sig``; returns files done by then."""
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        done = len(progress.read_text().splitlines()) if progress.exists() else 0
        if done >= at_least:
            proc.send_signal(sig)
            proc.wait(timeout=60)
            return done
        if proc.poll() is not None:
            pytest.fail(f"driver ended before it was killed: {proc.stderr.read()[-2000:]}")
        time.sleep(0.02)
    proc.kill()
    pytest.fail("driver made no progress")


def rows(index: Index) -> list[str]:
    index.store.spaces()  # opens (loads) the collection
    client = index.store.client
    return [r["id"] for r in client.query("resume", filter="", output_fields=["id"], limit=16384)]


@pytest.mark.slow
def test_killed_runs_resume_to_exactly_a_clean_run(tmp_path, text_embedder):
    folder = tmp_path / "corpus"
    make_corpus(folder)
    clean = Index(str(tmp_path / "clean.db"), "resume", embedder=text_embedder)
    assert clean.ingest([folder]).ok
    expected = rows(clean)
    clean.close()
    assert len(expected) == len(set(expected)) >= N_FILES

    store = str(tmp_path / "killed.db")
    progress = tmp_path / "progress.log"
    proc = start(store, folder, progress)
    first = kill_after(proc, progress, 3, signal.SIGINT)  # Ctrl-C
    proc = start(store, folder, progress)
    second = kill_after(proc, progress, first + 8, signal.SIGKILL)
    assert proc.returncode == -signal.SIGKILL
    done_before_last = len(progress.read_text().splitlines())
    assert done_before_last < 2 * N_FILES, "the kills came too late to test anything"

    proc = start(store, folder, progress)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-3000:]
    ingested, unchanged = map(int, out.split())
    assert ingested + unchanged == N_FILES
    assert unchanged >= first  # finished files were not redone
    assert second > first

    resumed = Index(store, "resume", embedder=text_embedder)
    got = rows(resumed)
    assert len(got) == len(set(got)), "duplicate chunk ids"
    assert sorted(got) == sorted(expected), "missing or extra chunks"
    count = resumed.store.client.query("resume", filter="", output_fields=["count(*)"])[0]["count(*)"]
    assert count == len(expected)
    entries = {e.doc_id: e for e in resumed.ingestor.manifest.entries()}
    assert len(entries) == N_FILES
    for path in folder.iterdir():
        doc = doc_id_for(path)
        assert entries[doc].chunks == len(resumed.store.chunk_ids(doc))
    again = resumed.ingest([folder])
    assert again.count(Status.UNCHANGED) == N_FILES
    resumed.close()
