"""The mmrag command, run through typer's runner on a real Milvus Lite file."""

import json

from typer.testing import CliRunner

from mmrag.cli import app

runner = CliRunner()
CONTRACT_KEYS = {"source", "modality", "page", "slide", "start", "end", "score", "text", "chunk_id"}


def test_ingest_search_info_round_trip(tmp_path, pdf_factory):
    pdf_factory("birds.pdf", ["Penguins cannot fly but swim fast.", "Swifts sleep while flying."])
    (tmp_path / "bad.pdf").write_bytes(b"%PDF-1.4 broken")
    store = str(tmp_path / "cli.db")

    result = runner.invoke(app, ["ingest", str(tmp_path), "--store", store, "--collection", "birds"])
    assert result.exit_code == 1, result.output  # bad.pdf failed
    assert "files ingested: 1" in result.output and "failed: 1" in result.output
    assert f"failed: {tmp_path / 'bad.pdf'}: corrupt PDF" in result.output
    assert "seconds:" in result.output

    result = runner.invoke(app, ["ingest", str(tmp_path / "birds.pdf"), "--store", store, "--collection", "birds", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["files_unchanged"] == 1

    result = runner.invoke(app, ["search", "which bird sleeps in the air", "--store", store, "--collection", "birds", "--json", "--k", "2"])
    assert result.exit_code == 0, result.output
    hits = json.loads(result.stdout)
    assert len(hits) == 2 and all(CONTRACT_KEYS <= h.keys() for h in hits)
    assert hits[0]["page"] == 2 and hits[0]["source"] == str(tmp_path / "birds.pdf") and hits[0]["modality"] == "text"
    assert hits[0]["slide"] is None and hits[0]["start"] is None and hits[0]["end"] is None

    result = runner.invoke(app, ["search", "swim flying", "--store", store, "--collection", "birds", "--mode", "bm25", "--filter", "page=1"])
    assert result.exit_code == 0 and "p.1" in result.output and "p.2" not in result.output

    result = runner.invoke(app, ["info", "--store", store])
    assert result.exit_code == 0
    assert "birds: 2 rows" in result.output and "sentence-transformers/all-MiniLM-L6-v2 (pooled, dim 384)" in result.output


def test_bad_options_give_clear_errors(tmp_path):
    result = runner.invoke(app, ["search", "x", "--store", str(tmp_path / "none.db"), "--mode", "fuzzy"])
    assert result.exit_code == 2 and "fuzzy" in result.output
    result = runner.invoke(app, ["search", "x", "--store", str(tmp_path / "none.db")])
    assert result.exit_code == 2 and "does not exist" in result.output
    result = runner.invoke(app, ["search", "x", "--store", "ftp://nowhere"])
    assert result.exit_code == 2 and "unrecognised Milvus URI" in result.output
