"""Overlapped ingestion (load and chunk in a worker process while the main one
embeds and writes) stores exactly what the serial path stores: same chunk ids,
rows, vectors and report, with per-file errors and notes carried back."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from mmrag.cli import app
from mmrag.errors import InvalidArgument
from mmrag.index import Index
from mmrag.ingest import Ingestor, Status
from mmrag.ingest.overlap import PrepareAhead
from mmrag.loaders import Loader, video_of
from mmrag.types import Element

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "data"
TEXT_FILES = ("beekeeping.md", "coffee_guide.pdf", "reef.txt", "roastery_tour.srt")
runner = CliRunner()


def rows(index: Index) -> dict[str, tuple]:
    """chunk id -> (doc_id, source, page, text, vector) for every stored row."""
    index.store.spaces()
    got = index.store.client.query(
        index.store.collection, filter="", output_fields=["id", "doc_id", "source", "page", "text", "dense_text"], limit=16384
    )
    return {r["id"]: (r["doc_id"], r["source"], r["page"], r["text"], np.asarray(r["dense_text"])) for r in got}


def ingest(folder: Path, store: Path, embedder, overlap: bool) -> tuple[Index, Ingestor, list[tuple]]:
    index = Index(str(store), "c", embedder=embedder)
    ingestor = Ingestor(index.store, index.spaces, index.ingestor.chunker, loaders=index.loaders, overlap=overlap)
    report = ingestor.run([folder])
    outcomes = [(Path(f.path).name, f.status, f.chunks, f.reason, f.notes) for f in report.files]
    return index, ingestor, outcomes


def test_overlapped_run_stores_what_the_serial_run_stores(tmp_path: Path, text_embedder) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    for name in TEXT_FILES:
        shutil.copy(EXAMPLES / name, folder / name)
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4 not really")  # its error must travel back from the worker
    (folder / "blob.bin").write_bytes(b"\x00\x01\x02")
    (folder / "empty.txt").write_text("")

    serial, serial_ingestor, serial_outcomes = ingest(folder, tmp_path / "serial.db", text_embedder, overlap=False)
    ahead, ahead_ingestor, ahead_outcomes = ingest(folder, tmp_path / "ahead.db", text_embedder, overlap=True)

    assert ahead_outcomes == serial_outcomes  # same order, statuses, chunk counts, reasons and notes
    by_name = {o[0]: o for o in ahead_outcomes}
    assert by_name["broken.pdf"][1] is Status.FAILED and "corrupt PDF" in by_name["broken.pdf"][3]
    assert by_name["blob.bin"][1] is Status.SKIPPED and by_name["coffee_guide.pdf"][1] is Status.INGESTED
    expected, got = rows(serial), rows(ahead)
    assert len(expected) == sum(o[2] for o in serial_outcomes) > 0
    assert got.keys() == expected.keys()
    for cid, row in expected.items():
        assert got[cid][:4] == row[:4]
        assert np.allclose(got[cid][4], row[4], atol=1e-5)
    entries = {e.doc_id: (e.path, e.sha256, e.chunks) for e in ahead_ingestor.manifest.entries()}
    assert entries == {e.doc_id: (e.path, e.sha256, e.chunks) for e in serial_ingestor.manifest.entries()}

    again = ahead_ingestor.run([folder])  # a re-run on the overlapped path skips everything unchanged
    assert again.chunks_written == 0 and again.count(Status.UNCHANGED) == len(TEXT_FILES)
    serial.close()
    ahead.close()


@pytest.mark.slow  # OCR and image loaders in the worker: the whole example folder through the CLI
def test_cli_overlap_and_serial_store_the_same_rows_for_the_examples(tmp_path: Path, text_embedder) -> None:
    reports = {}
    for flag in ("--overlap", "--no-overlap"):
        result = runner.invoke(app, ["ingest", str(EXAMPLES), "--store", str(tmp_path / f"{flag}.db"), "--collection", "c", "--json", flag])
        assert result.exit_code == 0, result.output
        reports[flag] = json.loads(result.stdout)
    assert reports["--overlap"]["files"] == reports["--no-overlap"]["files"]
    assert reports["--overlap"]["files_ingested"] == sum(1 for f in EXAMPLES.iterdir() if f.is_file() and video_of(f) is None)  # sidecars are read with their video
    ahead, serial = (Index(str(tmp_path / f"{flag}.db"), "c", embedder=text_embedder) for flag in ("--overlap", "--no-overlap"))
    expected, got = rows(serial), rows(ahead)
    assert got.keys() == expected.keys() and len(got) == reports["--overlap"]["chunks_written"]
    assert all(got[cid][:4] == row[:4] for cid, row in expected.items())
    ahead.close()
    serial.close()
    result = runner.invoke(app, ["ingest", str(EXAMPLES), "--engine", "daft", "--no-overlap"])
    assert result.exit_code == 2 and "--engine single" in result.output


class CrashingLoader(Loader):
    """Kills the process that reads a ``.crash`` file, as a parser bug in C would."""

    name = "crash"
    extensions = frozenset({".crash"})
    signatures = (b"CRASH",)

    def load(self, path: Path, source: str) -> Iterator[Element]:
        os._exit(3)


def test_a_file_that_kills_the_worker_fails_alone(tmp_path: Path, text_embedder) -> None:
    for name, text in (("a.txt", "Owls hunt at night."), ("b.crash", "CRASH now"), ("c.txt", "Bats hunt at dusk.")):
        (tmp_path / "docs").mkdir(exist_ok=True)
        (tmp_path / "docs" / name).write_text(text)
    index = Index(str(tmp_path / "s.db"), "c", embedder=text_embedder)
    ingestor = Ingestor(index.store, index.spaces, index.ingestor.chunker, loaders=[*index.ingestor.loaders, CrashingLoader()], overlap=True)
    report = ingestor.run([tmp_path / "docs"])
    by_name = {Path(f.path).name: f for f in report.files}
    assert by_name["b.crash"].status is Status.FAILED and "reading process died" in by_name["b.crash"].reason
    assert by_name["a.txt"].status is by_name["c.txt"].status is Status.INGESTED  # a fresh worker read the rest
    index.close()


def test_overlap_needs_what_a_worker_can_be_sent(tmp_path: Path, text_embedder) -> None:
    index = Index(str(tmp_path / "s.db"), "c", embedder=text_embedder)
    chunker = index.ingestor.chunker
    chunker.boundary = lambda element: element.page  # a lambda cannot be sent to another process
    (tmp_path / "a.txt").write_text("Owls hunt at night.\n")
    with pytest.raises(InvalidArgument, match="overlap=False"):
        Ingestor(index.store, index.spaces, chunker, overlap=True).run([tmp_path / "a.txt"])
    assert Ingestor(index.store, index.spaces, chunker).run([tmp_path / "a.txt"]).ok  # read here by default
    with pytest.raises(InvalidArgument, match="ahead"):
        PrepareAhead(chunker, [], index.ingestor.ocr_cache, ahead=0)
    index.close()


KILLED_PARENT = """
import os, sys
from mmrag.chunking import Chunker
from mmrag.ingest.overlap import PrepareAhead
from mmrag.loaders.ocr_cache import OcrCache

if __name__ == "__main__":
    ahead = PrepareAhead(Chunker(str.split), [], OcrCache())
    ahead.start().result()
    print(next(iter(ahead._pool._processes)), flush=True)
    os._exit(9)  # as a kill -9 would: no shutdown, no cleanup
"""


@pytest.mark.slow  # a child Python that imports mmrag and spawns a worker
def test_the_worker_ends_when_its_parent_is_killed(tmp_path: Path) -> None:
    import subprocess
    import sys
    import time

    script = tmp_path / "parent.py"
    script.write_text(KILLED_PARENT)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    worker = int(done.stdout.strip())
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and _alive(worker):
        time.sleep(0.2)
    assert not _alive(worker)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"  # a zombie has ended
    except FileNotFoundError:
        return False
