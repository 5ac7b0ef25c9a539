"""A small real index for the server tests: a two-page PDF, a transcript, a photo
and a note, ingested once per module with the real MiniLM into Milvus Lite."""

from __future__ import annotations

from pathlib import Path

import pytest

import mmrag
from tests.mixed_files import text_picture, write_text_pdf

VTT = """WEBVTT

00:00:01.000 --> 00:00:06.000
<v Ana>Good morning, this is the weekly standup for the harbour project.

00:01:05.000 --> 00:01:12.000
<v Ben>The budget for the new quay wall was approved yesterday by the board.

00:02:10.000 --> 00:02:16.000
<v Ana>Next week we test the tidal gauges before the storm season.
"""


def write_corpus(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    write_text_pdf(folder / "harbour.pdf", [
        "Harbour report. Ships arrive at the north pier every morning.",
        "The gantry crane lifts containers of forty tonnes onto the trucks.",
    ], title="Harbour report")
    (folder / "standup.vtt").write_text(VTT, encoding="utf-8")
    text_picture(["SOLAR PANELS ON THE ROOF"]).save(folder / "roof.png")
    (folder / "notes.md").write_text("# Notes\n\nThe canteen serves lentil soup on Fridays.\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_corpus(tmp_path_factory.mktemp("corpus") / "docs")


@pytest.fixture(scope="module")
def built_store(corpus: Path, text_embedder) -> str:
    """A Milvus Lite file holding the corpus (closed again, so a subprocess can open it)."""
    uri = str(corpus.parent / "store.db")
    index = mmrag.Index(uri, embedder=text_embedder)
    report = index.ingest([corpus])
    assert report.ok, report.lines()
    index.close()
    return uri


@pytest.fixture(scope="module")
def index(built_store: str, text_embedder):
    idx = mmrag.Index(built_store, embedder=text_embedder)
    yield idx
    idx.close()


@pytest.fixture(scope="module")
def cold_store(built_store: str) -> str:
    """``built_store`` for another process (a fresh CLI run, a server): Milvus Lite serves a
    file from inside the process that opened it and holds its lock until exit, so release it."""
    from milvus_lite.server_manager import server_manager_instance

    server_manager_instance.release_server(built_store)
    return built_store
