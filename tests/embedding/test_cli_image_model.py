import json

import pytest
from typer.testing import CliRunner

from mmrag.cli import app

pytestmark = pytest.mark.slow  # loads MiniLM and a tiny CLIP, writes a Milvus Lite file


def test_image_model_option_adds_an_image_space_that_the_collection_records(tmp_path, milvus_uri, clip_path, siglip_path):
    doc = tmp_path / "notes.md"
    doc.write_text("# Roof\n\nSolar panels on the south roof produce most power at noon.\n")
    runner = CliRunner()
    base = ["--store", milvus_uri, "--collection", "c", "--image-model", clip_path]

    ingest = runner.invoke(app, ["ingest", str(doc), *base, "--json"])
    assert ingest.exit_code == 0, ingest.output
    report = json.loads(ingest.stdout)
    assert report["files_ingested"] == 1 and report["chunks_written"] >= 1

    info = runner.invoke(app, ["info", "--store", milvus_uri])
    assert "text: " in info.stdout and f"image: {clip_path} (pooled, dim 24)" in info.stdout

    hits = runner.invoke(app, ["search", "solar power", *base, "--json", "--mode", "dense"])
    assert hits.exit_code == 0, hits.output
    assert json.loads(hits.stdout)[0]["source"].endswith("notes.md")

    other = runner.invoke(app, ["search", "solar power", "--store", milvus_uri, "--collection", "c", "--image-model", siglip_path])
    assert other.exit_code == 2 and "was built with" in other.output
