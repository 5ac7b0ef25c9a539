"""Incremental ingestion: the manifest skips unchanged files before loading them,
re-ingests changed ones, prunes vanished ones, and a dry run writes nothing.
All on a real Milvus Lite file with the real MiniLM."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

import mmrag
import mmrag.ingest.driver
import mmrag.manifest
from mmrag.chunking import WindowOptions
from mmrag.cli import app
from mmrag.index import Index
from mmrag.ingest import Status, doc_id_for
from mmrag.manifest import Change, FileState, Fingerprints, ManifestEntry, classify, pipeline_fingerprint
from mmrag.stores.milvus.manifest import MilvusManifest

runner = CliRunner()
FP = Fingerprints("fp", "fp with asr")  # a file's entry is recorded under one of the two


def entry(size: int = 10, mtime_ns: int = 100, sha256: str = "aa", fingerprint: str = FP.plain) -> ManifestEntry:
    return ManifestEntry("d", "/x", "x", size, mtime_ns, sha256, 1, fingerprint, 0.0)


@pytest.mark.parametrize(
    ("known", "size", "mtime", "sha", "change"),
    [
        (None, 10, 100, None, Change.ADD),
        (entry(), 10, 100, None, Change.UNCHANGED),
        (entry(), 11, 200, None, Change.REPLACE),  # size differs: no hash needed
        (entry(), 10, 200, "aa", Change.TOUCH),  # same bytes, new mtime
        (entry(), 10, 200, "bb", Change.REPLACE),
        (entry(fingerprint="other"), 10, 100, None, Change.REPLACE),  # models, chunking or ASR model changed
        (entry(fingerprint=FP.speech), 10, 100, None, Change.UNCHANGED),  # transcribed with this run's ASR model
    ],
)
def test_classify(known, size, mtime, sha, change):
    assert classify(known, size, mtime, FP, sha) is change


def test_classify_asks_for_the_hash_only_when_it_decides():
    with pytest.raises(LookupError):
        classify(entry(), 10, 200, FP, None)


def test_fingerprint_names_models_and_window(text_embedder):
    specs = {"text": text_embedder.spec()}
    base = pipeline_fingerprint(specs, WindowOptions())
    assert base == pipeline_fingerprint(specs, WindowOptions())
    assert base != pipeline_fingerprint(specs, WindowOptions(max_tokens=100))
    assert "all-MiniLM-L6-v2" in base
    assert f'"mmrag": "{mmrag.__version__}"' in base  # an upgrade re-loads files (unchanged chunks are not re-embedded)


def corpus(root: Path, n: int = 4) -> list[Path]:
    root.mkdir(parents=True, exist_ok=True)
    topics = ["honey bees and hives", "coral reefs and fish", "solar panels on roofs", "espresso and crema"]
    files = []
    for i in range(n):
        p = root / f"note{i}.txt"
        p.write_text(f"Note {i} is about {topics[i % 4]}. It has a second sentence about {topics[(i + 1) % 4]}.\n")
        files.append(p)
    return files


def stored_ids(index: Index) -> list[str]:
    client = index.store.client
    return [r["id"] for r in client.query(index.store.collection, filter="", output_fields=["id"], limit=16384)]


@pytest.fixture
def index(milvus_uri, text_embedder):
    idx = Index(milvus_uri, "notes", embedder=text_embedder)
    yield idx
    idx.close()


def count_calls(monkeypatch, module, name: str) -> list[object]:
    """Record each call of ``module.name`` (the real function still runs)."""
    calls: list[object] = []
    real = getattr(module, name)

    def spy(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, spy)
    return calls


def test_rerun_skips_unchanged_files_before_loading(tmp_path, index, monkeypatch):
    files = corpus(tmp_path / "docs")
    first = index.ingest([tmp_path / "docs"])
    assert first.count(Status.INGESTED) == 4
    manifest = index.ingestor.manifest
    entries = manifest.lookup([doc_id_for(p) for p in files])
    assert len(entries) == 4
    e = entries[doc_id_for(files[0])]
    assert e.size == files[0].stat().st_size and e.mtime_ns == files[0].stat().st_mtime_ns
    assert e.chunks == 1 and e.path == str(files[0].resolve()) and len(e.sha256) == 64
    assert json.loads(e.fingerprint)["spaces"]["text"]["model_name"].endswith("all-MiniLM-L6-v2")

    loads = count_calls(monkeypatch, mmrag.ingest.driver, "prepare")
    hashes = count_calls(monkeypatch, mmrag.manifest, "file_sha256")
    second = index.ingest([tmp_path / "docs"])
    assert second.count(Status.UNCHANGED) == 4 and second.chunks_written == 0
    assert loads == [] and hashes == []  # size+mtime settled it: not even read


def test_touched_file_is_hashed_once_then_skipped_by_stat(tmp_path, index, monkeypatch):
    files = corpus(tmp_path / "docs")
    index.ingest([tmp_path / "docs"])
    st = files[1].stat()
    os.utime(files[1], ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))

    loads = count_calls(monkeypatch, mmrag.ingest.driver, "prepare")
    hashes = count_calls(monkeypatch, mmrag.manifest, "file_sha256")
    report = index.ingest([tmp_path / "docs"])
    assert report.count(Status.UNCHANGED) == 4 and loads == [] and len(hashes) == 1
    entry = index.ingestor.manifest.lookup([doc_id_for(files[1])])[doc_id_for(files[1])]
    assert entry.mtime_ns == files[1].stat().st_mtime_ns  # refreshed: next run needs no hash

    index.ingest([tmp_path / "docs"])
    assert len(hashes) == 1


def test_changed_file_is_reingested_and_its_old_chunks_replaced(tmp_path, index):
    files = corpus(tmp_path / "docs")
    index.ingest([tmp_path / "docs"])
    doc = doc_id_for(files[2])
    before = index.store.chunk_ids(doc)
    total = len(stored_ids(index))

    files[2].write_text("Completely new text about wind turbines and their blades.\n")
    report = index.ingest([tmp_path / "docs"])
    assert [(f.path, f.status) for f in report.files if f.status is not Status.UNCHANGED] == [
        (str(files[2]), Status.INGESTED)
    ]
    after = index.store.chunk_ids(doc)
    assert after and not (after & before)
    assert len(stored_ids(index)) == total
    hit = index.search("wind turbine blades", k=1)[0]
    assert hit.chunk.source == str(files[2]) and "turbines" in hit.chunk.text
    assert index.ingestor.manifest.lookup([doc])[doc].sha256 == mmrag.manifest.file_sha256(files[2])


def test_other_chunk_window_reingests(tmp_path, milvus_uri, text_embedder):
    corpus(tmp_path / "docs", 2)
    with_default = Index(milvus_uri, "notes", embedder=text_embedder)
    with_default.ingest([tmp_path / "docs"])
    with_default.close()
    smaller = Index(milvus_uri, "notes", embedder=text_embedder, window=WindowOptions(max_tokens=16, overlap=4))
    report = smaller.ingest([tmp_path / "docs"])
    assert report.count(Status.INGESTED) == 2  # the fingerprint changed: redone
    assert len(stored_ids(smaller)) > 2
    smaller.close()


def test_prune_removes_vanished_sources_under_the_given_roots_only(tmp_path, index):
    a = corpus(tmp_path / "a", 2)
    b = corpus(tmp_path / "b", 2)
    index.ingest([tmp_path / "a", tmp_path / "b"])
    a[0].unlink()
    b[0].unlink()

    report = index.ingestor.run([tmp_path / "a"], prune=True)
    removed = [f for f in report.files if f.status is Status.REMOVED]
    assert [(f.path, f.chunks) for f in removed] == [(str(a[0]), 1)]
    assert not index.store.chunk_ids(doc_id_for(a[0]))
    assert index.store.chunk_ids(doc_id_for(b[0]))  # not under the pruned root
    assert doc_id_for(a[0]) not in index.ingestor.manifest.lookup([doc_id_for(a[0])])

    report = index.ingestor.run([tmp_path / "b"], prune=True)
    assert [f.path for f in report.files if f.status is Status.REMOVED] == [str(b[0])]
    assert {s.source for s in index.store.sources()} == {str(a[1]), str(b[1])}


def test_prune_finds_chunks_a_killed_run_left_without_an_entry(tmp_path, index):
    files = corpus(tmp_path / "docs", 2)
    index.ingest([tmp_path / "docs"])
    orphan = doc_id_for(files[0])
    index.ingestor.manifest.delete([orphan])  # as if killed between the chunks and the entry
    files[0].unlink()
    report = index.ingestor.run([tmp_path / "docs"], prune=True)
    assert [f.path for f in report.files if f.status is Status.REMOVED] == [str(files[0])]
    assert not index.store.chunk_ids(orphan)


def test_unrecorded_source_is_recognised_as_unchanged(tmp_path, index):
    """A store written before the manifest (or by a run killed before the entry)
    is adopted: chunks compared, nothing re-embedded, the entry written."""
    files = corpus(tmp_path / "docs", 2)
    index.ingest([tmp_path / "docs"])
    index.ingestor.manifest.delete([doc_id_for(f) for f in files])
    plan = index.ingestor.plan([tmp_path / "docs"])
    assert plan.unchanged == [str(f) for f in files] and not plan.add
    report = index.ingest([tmp_path / "docs"])
    assert report.count(Status.UNCHANGED) == 2 and report.chunks_written == 0
    assert len(index.ingestor.manifest.lookup([doc_id_for(f) for f in files])) == 2


def test_recreated_collection_gets_a_fresh_manifest(tmp_path, milvus_uri, text_embedder):
    corpus(tmp_path / "docs", 2)
    first = Index(milvus_uri, "notes", embedder=text_embedder)
    first.ingest([tmp_path / "docs"])
    first.store.client.drop_collection("notes")  # the manifest collection is left behind
    first.close()
    again = Index(milvus_uri, "notes", embedder=text_embedder)
    report = again.ingest([tmp_path / "docs"])
    assert report.count(Status.INGESTED) == 2  # the old manifest no longer speaks for this collection
    assert len(stored_ids(again)) == 2
    again.close()


def test_manifest_is_not_listed_as_a_collection(tmp_path, index):
    corpus(tmp_path / "docs", 1)
    index.ingest([tmp_path / "docs"])
    assert index.store.client.has_collection("notes__manifest")
    assert [c.name for c in index.info()] == ["notes"]


def test_dry_run_lists_changes_and_writes_nothing(tmp_path, index):
    files = corpus(tmp_path / "docs", 4)
    index.ingest([tmp_path / "docs"])
    files[0].write_text("Changed text about owls.\n")
    files[1].unlink()
    (tmp_path / "docs" / "new.md").write_text("# New\n\nA new note about kites.\n")
    (tmp_path / "docs" / "data.bin").write_bytes(b"\x00\x01\x02")
    manifest: MilvusManifest = index.ingestor.manifest
    rows = sorted(stored_ids(index))
    entries = sorted(e.to_dict()["sha256"] for e in manifest.entries())

    plan = index.ingestor.plan([tmp_path / "docs"], prune=True)
    assert plan.add == [str(tmp_path / "docs" / "new.md")]
    assert plan.replace == [str(files[0])]
    assert plan.remove == [str(files[1])]
    assert plan.unchanged == [str(files[2]), str(files[3])]
    assert [(p.path, p.status) for p in plan.problems] == [(str(tmp_path / "docs" / "data.bin"), Status.SKIPPED)]
    assert sorted(stored_ids(index)) == rows
    assert sorted(e.sha256 for e in manifest.entries()) == entries


def test_cli_prune_and_dry_run(tmp_path):
    files = corpus(tmp_path / "docs", 3)
    store = str(tmp_path / "cli.db")
    args = ["--store", store, "--collection", "notes"]

    result = runner.invoke(app, ["ingest", str(tmp_path / "docs"), *args, "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "would add: 3, replace: 0, remove: 0" in result.output
    assert not Path(store).exists()  # a dry run leaves no trace, not even an empty store

    assert runner.invoke(app, ["ingest", str(tmp_path / "docs"), *args]).exit_code == 0
    files[2].unlink()
    result = runner.invoke(app, ["ingest", str(tmp_path / "docs"), *args, "--prune", "--dry-run", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["remove"] == [str(files[2])]

    result = runner.invoke(app, ["ingest", str(tmp_path / "docs"), *args, "--prune", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["files_removed"] == 1 and report["files_unchanged"] == 2
    result = runner.invoke(app, ["ingest", str(tmp_path / "docs"), *args, "--prune"])
    assert "removed: 0" in result.output and "files ingested: 0, unchanged: 2" in result.output


def test_file_state_is_taken_before_loading(tmp_path):
    p = tmp_path / "a.txt"
    p.write_text("one")
    state = FileState.of(p, "doc").hashed()
    p.write_text("two, longer")  # edited while being ingested
    e = state.entry(1, FP)
    assert (e.size, e.sha256) == (3, hashlib.sha256(b"one").hexdigest())
    now = FileState.of(p, "doc")
    assert classify(e, now.size, now.mtime_ns, FP, None) is Change.REPLACE  # the next run redoes it
