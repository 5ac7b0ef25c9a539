"""The Daft engine's worker commit stage (the one a Milvus server gets) writes
in bulk with ``commit_many``: one insert for the new sources of a batch, a
replaced source alone with its stale chunks gone, nothing half-written when one
source fails, and a re-run that writes nothing twice.

Run here on a real Milvus Lite file, with the stage's classes called in this
process on Daft Series (Lite is a file one process owns, so on Lite the engine
itself commits from the driver through the same ``commit_rows``). What only a
server shows (several workers' clients writing one collection at once) is in
``test_daft_pipeline.test_daft_engine_on_a_milvus_server`` (MILVUS_URI)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("daft")

import daft  # noqa: E402

from mmrag.chunking import Chunker, WindowOptions  # noqa: E402
from mmrag.distributed import StoreConfig, text_spaces  # noqa: E402
from mmrag.distributed.pipeline import ROW_COLUMNS, _Commit, _Embed, _Prepare  # noqa: E402
from mmrag.ingest.steps import doc_id_for  # noqa: E402
from mmrag.manifest import FileState, Fingerprints  # noqa: E402


class Stage:
    """The prepare, embed and commit stages over one Lite file, counting the store's write calls."""

    def __init__(self, db: str) -> None:
        spaces = text_spaces()
        self.prepare = _Prepare(text_spaces, WindowOptions())
        self.embed = _Embed(text_spaces)
        fingerprint = Fingerprints.of(spaces.specs(), Chunker(spaces.tokenizer, WindowOptions()).options, None)
        self.commit = _Commit(StoreConfig(db, "c"), fingerprint, {n: s.dim for n, s in spaces.specs().items()})
        self.commit.store.ensure_collection(spaces.specs())  # the driver's job, before any worker writes
        self.calls: list[tuple[str, int]] = []
        store = self.commit.store
        for name in ("add_sources", "write_source"):
            real = getattr(store, name)

            def counted(*args, _real=real, _name=name, **kwargs):
                chunks = args[0] if _name == "add_sources" else args[1]
                self.calls.append((_name, len(chunks)))
                return _real(*args, **kwargs)

            setattr(store, name, counted)

    def rows(self, paths: list[Path]) -> list[dict]:
        states = [FileState.of(p, doc_id_for(p)) for p in paths]
        prepared = [self.prepare(str(s.path), s.source, s.doc_id, s.size, s.mtime_ns) for s in states]
        vectors = self.embed(daft.Series.from_pylist(prepared))
        return [
            dict(zip(ROW_COLUMNS, (str(s.path), s.source, s.doc_id, s.size, s.mtime_ns, p, v)))
            for s, p, v in zip(states, prepared, vectors)
        ]

    def run(self, rows: list[dict]) -> list[dict]:
        self.calls.clear()
        columns = [daft.Series.from_pylist([r[c] for r in rows], name=c) for c in ROW_COLUMNS]
        return self.commit(*columns)

    def stored(self) -> dict[str, int]:
        return {s.doc_id: s.chunks for s in self.commit.store.sources()}


def test_worker_commit_writes_a_batch_in_bulk_and_never_twice(tmp_path: Path) -> None:
    texts = {
        "owls.txt": "Owls hunt at night with silent feathers.\n",
        "kelp.md": "# Kelp\n\nKelp forests shelter sea otters along cold coasts.\n",
        "bees.txt": "Bees dance to tell the hive where the flowers are.\n",
    }
    for name, text in texts.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "bad.pdf").write_bytes(b"%PDF-1.4 broken")
    paths = [tmp_path / n for n in (*texts, "bad.pdf")]
    stage = Stage(str(tmp_path / "s.db"))
    rows = stage.rows(paths)

    first = stage.run(rows)
    assert [o["status"] for o in first] == ["ingested"] * 3 + ["failed"]
    assert "corrupt PDF" in first[3]["reason"]
    chunks = sum(o["chunks"] for o in first)
    assert stage.calls == [("add_sources", chunks)]  # the three new sources: one insert
    assert stage.stored() == {r["doc_id"]: len(r["prepared"]["chunks"]) for r in rows[:3]}
    assert {e.doc_id for e in stage.commit.manifest.entries()} == {r["doc_id"] for r in rows[:3]}

    again = stage.run(rows)  # a re-run (a retried task, or a killed run run again)
    assert [o["status"] for o in again[:3]] == ["unchanged"] * 3 and stage.calls == []
    assert sum(stage.stored().values()) == chunks

    # A changed source is rewritten alone and keeps no stale chunk; an unchanged one beside it is left.
    (tmp_path / "owls.txt").write_text("Barn owls nest in old church towers.\n")
    changed = stage.rows([tmp_path / "owls.txt"])[0]
    assert [o["status"] for o in stage.run([changed, rows[1]])] == ["ingested", "unchanged"]
    assert [name for name, _ in stage.calls] == ["write_source"]
    new_ids = {c["id"] for c in map(json.loads, changed["prepared"]["chunks"])}
    assert stage.commit.store.chunk_ids(changed["doc_id"]) == new_ids

    # One source whose vectors went missing fails alone: nothing of it is written, its batch-mates land.
    (tmp_path / "moss.txt").write_text("Moss grows on the north side of trees.\n")
    (tmp_path / "fern.txt").write_text("Ferns unroll their fronds in spring.\n")
    moss, fern = stage.rows([tmp_path / "moss.txt", tmp_path / "fern.txt"])
    moss["vectors"] = [b""]
    outcomes = stage.run([moss, fern])
    assert [o["status"] for o in outcomes] == ["failed", "ingested"]
    assert moss["doc_id"] not in stage.stored() and fern["doc_id"] in stage.stored()
    assert moss["doc_id"] not in {e.doc_id for e in stage.commit.manifest.entries()}
    stage.commit.store.close()
