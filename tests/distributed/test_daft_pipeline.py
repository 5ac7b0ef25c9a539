"""The Daft engine writes exactly what the single-process engine writes (same
chunk ids, rows, manifest), through the CLI and the Python API, on Daft's local
runner with real worker processes and a real Milvus Lite file."""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

pytest.importorskip("daft")

from mmrag.cli import app  # noqa: E402
from mmrag.distributed import DaftIngestor, StoreConfig  # noqa: E402
from mmrag.errors import StoreError  # noqa: E402
from mmrag.index import Index  # noqa: E402
from mmrag.ingest import Status  # noqa: E402
from mmrag.loaders import video_of  # noqa: E402
from mmrag.stores.milvus import dense_field  # noqa: E402
from tests.integrations.conftest import tiny_clip_path  # noqa: E402,F401  (a fixture: a random CLIP saved by path)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "data"
runner = CliRunner()


def snapshot(index: Index, space: str = "text") -> dict[str, tuple]:
    """chunk id -> (doc_id, source, page, text, vector in ``space``) for every stored row."""
    index.store.spaces()
    field = dense_field(space)
    rows = index.store.client.query(
        index.store.collection, filter="", output_fields=["id", "doc_id", "source", "page", "text", field], limit=16384
    )
    return {r["id"]: (r["doc_id"], r["source"], r["page"], r["text"], np.asarray(r[field])) for r in rows}


def manifest(index: Index) -> dict[str, tuple]:
    return {e.doc_id: (e.path, e.size, e.sha256, e.chunks, e.fingerprint) for e in index.ingestor.manifest.entries()}


def assert_same(a: dict[str, tuple], b: dict[str, tuple]) -> None:
    assert a.keys() == b.keys()
    for cid in a:
        assert a[cid][:4] == b[cid][:4]
        assert np.allclose(a[cid][4], b[cid][4], atol=1e-5)


@pytest.mark.slow
def test_daft_engine_matches_single_process(tmp_path, text_embedder):
    data = tmp_path / "data"
    shutil.copytree(EXAMPLES, data)
    single, daft_db = str(tmp_path / "single.db"), str(tmp_path / "daft.db")

    result = runner.invoke(
        app, ["ingest", str(data), "--engine", "daft", "--workers", "1", "--store", daft_db, "--collection", "ex", "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    n_files = sum(1 for f in data.rglob("*") if f.is_file() and video_of(f) is None)  # sidecars are read with their video
    assert report["files_ingested"] == n_files and report["files_failed"] == 0

    # Milvus Lite clients are kept open for the rest of the test: reopening a
    # file in the same process after a long idle trips over pymilvus' cached channel.
    ref = Index(single, "ex", embedder=text_embedder)
    assert ref.ingest([data]).ok
    out = Index(daft_db, "ex", embedder=text_embedder)
    expected = snapshot(ref)
    assert len(expected) == report["chunks_written"]
    assert_same(snapshot(out), expected)
    assert manifest(out) == manifest(ref)

    # Incremental on the Daft engine too: unchanged skipped, changed replaced, vanished pruned.
    engine = DaftIngestor(StoreConfig(daft_db, "ex"), workers=1)
    again = engine.run([data])
    assert again.count(Status.UNCHANGED) == n_files and again.chunks_written == 0

    (data / "reef.txt").write_text("Kelp forests shelter sea otters along cold coasts.\n")
    (data / "beekeeping.md").unlink()
    plan = engine.plan([data], prune=True)
    assert (plan.replace, plan.remove) == ([str(data / "reef.txt")], [str(data / "beekeeping.md")])
    report = engine.run([data], prune=True)
    changed = {(Path(f.path).name, f.status) for f in report.files if f.status is not Status.UNCHANGED}
    assert {c for c in changed if c[1] is not Status.SKIPPED or c[0] != "volcano_lecture.vtt"} == {
        ("reef.txt", Status.INGESTED),
        ("beekeeping.md", Status.REMOVED),
    }
    ref.ingestor.run([data], prune=True)
    assert_same(snapshot(out), snapshot(ref))
    ref.close()
    out.close()


@pytest.mark.slow
def test_daft_cli_applies_the_budget_and_the_image_model(tmp_path, tiny_clip_path, text_embedder):
    """Through the CLI: bad files fail alone on the workers, --max-file-mb is the
    budget the workers apply (a 20 KB file over a 10 KB budget is refused), and
    --image-model gives every chunk the image space's vectors the single engine
    gives it (one Daft run checks all three: each costs a worker start)."""
    from PIL import Image

    data = tmp_path / "data"
    data.mkdir()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(data / "red.png")
    (data / "ok.txt").write_text("Owls hunt at night with silent feathers.\n")
    (data / "bad.pdf").write_bytes(b"%PDF-1.4 broken")
    (data / "x.bin").write_bytes(b"\x00\x01")
    (data / "big.txt").write_text("Moss grows on the north side of trees. " * 512)  # ~20 KB
    daft_db, single_db = str(tmp_path / "s.db"), str(tmp_path / "single.db")
    args = [str(data), "--json", "--max-file-mb", "0.01", "--image-model", tiny_clip_path]
    result = runner.invoke(app, ["ingest", *args, "--engine", "daft", "--workers", "1", "--store", daft_db])
    assert result.exit_code == 1, result.output
    by_name = {Path(f["path"]).name: f for f in json.loads(result.stdout)["files"]}
    assert by_name["ok.txt"]["status"] == "ingested" and by_name["ok.txt"]["chunks"] == 1
    assert by_name["bad.pdf"]["status"] == "failed" and "corrupt PDF" in by_name["bad.pdf"]["reason"]
    assert by_name["x.bin"]["status"] == "skipped" and "unsupported" in by_name["x.bin"]["reason"]
    assert by_name["big.txt"]["status"] == "failed"
    assert by_name["big.txt"]["reason"].startswith("file too large: ")
    assert "the limit is 0.01 MB per file: raise it with --max-file-mb" in by_name["big.txt"]["reason"]
    assert by_name["red.png"]["status"] == "ingested"

    single = runner.invoke(app, ["ingest", *args, "--store", single_db])
    assert single.exit_code == 1, single.output
    out, ref = Index(daft_db, embedder=text_embedder), Index(single_db, embedder=text_embedder)
    assert set(out.store.spaces()) == {"text", "image"}
    assert out.store.spaces() == ref.store.spaces()
    for space in ("text", "image"):
        assert_same(snapshot(out, space), snapshot(ref, space))
    assert any(source.endswith("red.png") for _, source, *_ in snapshot(out, "image").values())
    out.close()
    ref.close()


def test_ray_with_a_lite_file_is_refused_before_anything_starts(tmp_path):
    (tmp_path / "a.txt").write_text("text")
    engine = DaftIngestor(StoreConfig(str(tmp_path / "s.db"), "c"), ray_address="ray://head:10001")
    with pytest.raises(StoreError, match="Milvus Lite file.*server"):
        engine.run([tmp_path])


def test_cli_engine_options_are_checked():
    result = runner.invoke(app, ["ingest", "x", "--workers", "2"])
    assert result.exit_code == 2 and "--engine daft" in result.output
    result = runner.invoke(app, ["ingest", "x", "--engine", "spark"])
    assert result.exit_code == 2 and "spark" in result.output


@pytest.mark.skipif(not os.environ.get("MILVUS_URI"), reason="no Milvus server: set MILVUS_URI=http://host:19530")
def test_daft_engine_on_a_milvus_server(tmp_path, text_embedder):
    uri, token = os.environ["MILVUS_URI"], os.environ.get("MILVUS_TOKEN")
    name = f"mmrag_test_{uuid.uuid4().hex[:8]}"
    data = tmp_path / "data"
    shutil.copytree(EXAMPLES, data)
    try:
        report = DaftIngestor(StoreConfig(uri, name, token), workers=2).run([data])
        assert report.ok and report.count(Status.INGESTED) == 4
        idx = Index(str(tmp_path / "single.db"), "ex", embedder=text_embedder)
        idx.ingest([data])
        idx.close()
        server = StoreConfig(uri, name, token).open()
        assert {s.doc_id: s.chunks for s in server.sources()} == {
            s.doc_id: s.chunks for s in StoreConfig(str(tmp_path / "single.db"), "ex").open().sources()
        }
    finally:
        server = StoreConfig(uri, name, token).open()
        for n in (name, f"{name}__manifest"):
            if server.client.has_collection(n):
                server.client.drop_collection(n)
        server.close()


@pytest.mark.slow
def test_daft_engine_skips_links_leaving_the_folder_unless_follow_links(tmp_path):
    """The Daft driver walks as the single engine does (mmrag.ingest.walk): a link
    out of the folder is skipped with a note, and read with --follow-links."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("Lighthouses guide ships past the reef at night.\n")
    data = tmp_path / "inbox"
    data.mkdir()
    (data / "owls.txt").write_text("Owls hunt at night with silent feathers.\n")
    (data / "out_link.txt").symlink_to(outside / "secret.txt")
    args = ["ingest", str(data), "--engine", "daft", "--workers", "1", "--store", str(tmp_path / "s.db"), "--json"]

    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    by_name = {Path(f["path"]).name: f for f in json.loads(first.stdout)["files"]}
    assert by_name["owls.txt"]["status"] == "ingested"
    assert by_name["out_link.txt"]["status"] == "skipped"
    assert "outside the folder being ingested" in by_name["out_link.txt"]["reason"]
    assert "--follow-links" in by_name["out_link.txt"]["reason"]

    followed = runner.invoke(app, [*args, "--follow-links"])
    assert followed.exit_code == 0, followed.output
    by_name = {Path(f["path"]).name: f for f in json.loads(followed.stdout)["files"]}
    assert by_name["out_link.txt"]["status"] == "ingested" and by_name["out_link.txt"]["chunks"] == 1
    assert by_name["owls.txt"]["status"] == "unchanged"
