"""`mmrag sources`, `mmrag delete --source` and the --store URI forms, on a real Milvus Lite file."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("pymilvus")

from typer.testing import CliRunner

from mmrag.cli import app

runner = CliRunner()


@pytest.fixture
def ingested(tmp_path, text_embedder):
    """Two text files ingested through the CLI into a Lite file (URI form milvus:///...)."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "birds.txt").write_text("Arctic terns fly from pole to pole every year.\n\nSwifts sleep on the wing.")
    (docs / "bread.txt").write_text("Knead the dough for ten minutes and let it rise.")
    db = tmp_path / "cli.db"
    result = runner.invoke(app, ["ingest", str(docs), "--store", f"milvus://{db}"])
    assert result.exit_code == 0, result.output
    return docs, db


def test_sources_lists_what_was_ingested(ingested):
    docs, db = ingested
    result = runner.invoke(app, ["sources", "--store", str(db), "--json"])  # plain *.db path: the same file
    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)
    assert [s["source"] for s in listed] == [str(docs / "birds.txt"), str(docs / "bread.txt")]
    assert all(s["chunks"] >= 1 for s in listed)
    text = runner.invoke(app, ["sources", "--store", str(db)])
    assert str(docs / "bread.txt") in text.stdout


def test_delete_source_removes_it_and_only_it(ingested):
    docs, db = ingested
    result = runner.invoke(app, ["delete", "--source", str(docs / "birds.txt"), "--store", f"milvus://{db}"])
    assert result.exit_code == 0, result.output
    assert "deleted" in result.stdout
    left = json.loads(runner.invoke(app, ["sources", "--store", str(db), "--json"]).stdout)
    assert [s["source"] for s in left] == [str(docs / "bread.txt")]
    again = runner.invoke(app, ["delete", "--source", str(docs / "birds.txt"), "--store", str(db)])
    assert again.exit_code == 1 and "nothing stored" in again.output
    hits = runner.invoke(app, ["search", "terns", "--mode", "bm25", "--store", str(db), "--json"])
    assert hits.exit_code == 0 and json.loads(hits.stdout) == []
    # The manifest forgot it too: ingesting the unchanged folder brings the file back.
    back = runner.invoke(app, ["ingest", str(docs), "--store", str(db), "--json"])
    assert back.exit_code == 0 and json.loads(back.stdout)["files_ingested"] == 1
    assert [s["source"] for s in json.loads(runner.invoke(app, ["sources", "--store", str(db), "--json"]).stdout)] == [
        str(docs / "birds.txt"), str(docs / "bread.txt")]


def test_bad_store_uris_fail_with_a_clear_message(tmp_path):
    bad = runner.invoke(app, ["sources", "--store", "ftp://somewhere"])
    assert bad.exit_code == 2 and "unrecognised Milvus URI" in bad.output
    down = runner.invoke(app, ["sources", "--store", "weaviate://127.0.0.1:9?grpc_port=10"])
    assert down.exit_code == 2 and "cannot connect to Weaviate" in down.output
    missing = runner.invoke(app, ["sources", "--store", str(tmp_path / "new.db")])
    assert missing.exit_code == 2 and "does not exist" in missing.output
    assert not (tmp_path / "new.db").exists()  # a listing creates no store
