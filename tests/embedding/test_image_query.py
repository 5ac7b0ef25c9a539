"""Search by picture: ``Index.search(image=...)``, ``mmrag search --image`` and
image queries in ``mmrag eval``, on real photos (scikit-image), a tiny random
CLIP loaded by path, the real MiniLM and a real Milvus Lite file.

A random CLIP ranks nothing meaningfully, except this: the very picture that
was ingested comes back with cosine 1, so it must be the first hit."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data as samples
from typer.testing import CliRunner

import mmrag
from mmrag.cli import app
from mmrag.embedding.clip import ImageTextEmbedder
from mmrag.embedding.spaces import EmbeddingSpaces

PHOTOS = ("chelsea", "coffee", "rocket")
runner = CliRunner()


@pytest.fixture(scope="module")
def photo_files(tmp_path_factory, clip_path, text_embedder):
    """Three photos and a note ingested once; each test opens its own Index on the file."""
    root = tmp_path_factory.mktemp("photos")
    docs = root / "docs"
    docs.mkdir()
    for name in PHOTOS:
        Image.fromarray(getattr(samples, name)()).resize((96, 64)).save(docs / f"{name}.png")
    (docs / "notes.md").write_text("# Kitchen\n\nThe espresso machine needs descaling every month.\n")
    uri = str(root / "photos.db")
    spaces = EmbeddingSpaces({"text": text_embedder, "image": ImageTextEmbedder(clip_path)})
    index = mmrag.Index(uri, "photos", embedder=spaces)
    assert index.ingest([docs]).ok
    index.close()
    return uri, docs, spaces


@pytest.fixture
def photo_store(photo_files):
    uri, docs, spaces = photo_files
    index = mmrag.Index(uri, "photos", embedder=spaces)
    yield index, uri, docs
    index.close()


def test_each_photo_finds_itself_first(photo_store):
    index, _, docs = photo_store
    for name in PHOTOS:
        for mode in ("dense", "hybrid"):
            hits = index.search(image=docs / f"{name}.png", k=3, mode=mode)
            assert Path(hits[0].chunk.source).name == f"{name}.png", (name, mode)
            assert hits[0].score == pytest.approx(1.0, abs=1e-3) if mode == "dense" else True


def test_text_goes_to_the_text_space_and_image_plus_text_is_composed(photo_store, text_embedder):
    index, _, docs = photo_store
    clip = index.spaces.embedders["image"]
    photo = docs / "coffee.png"
    only_image = index.spaces.embed_query(image=photo)
    assert set(only_image) == {"image"}  # MiniLM cannot read pixels: left out, not guessed
    np.testing.assert_allclose(only_image["image"], clip.embed_images([photo])[0], atol=1e-6)
    both = index.spaces.embed_query("but in a paper cup", photo)
    np.testing.assert_allclose(both["text"], text_embedder.embed_queries(["but in a paper cup"])[0], atol=1e-6)
    np.testing.assert_allclose(both["image"], clip.embed_composed([photo], ["but in a paper cup"])[0], atol=1e-6)
    assert index.search("espresso descaling", k=1, image=photo, mode="hybrid")  # both sides run together


def test_image_queries_that_cannot_run_say_why(photo_store, tmp_path, text_embedder):
    index, _, docs = photo_store
    photo = docs / "rocket.png"
    with pytest.raises(ValueError, match="BM25 search needs query text"):
        index.search(image=photo, mode="bm25")
    with pytest.raises(ValueError, match="the query is empty"):
        index.search("  ")
    text_only = mmrag.Index(str(tmp_path / "text.db"), embedder=text_embedder)
    with pytest.raises(ValueError, match="no embedding space here embeds images.*--image-model"):
        text_only.search(image=photo)


def test_cli_search_by_image_uses_the_models_the_collection_recorded(photo_files):
    uri, docs, _ = photo_files
    result = runner.invoke(app, ["search", "--image", str(docs / "chelsea.png"), "--store", uri, "--collection", "photos",
                                 "--mode", "dense", "--json"])  # no --image-model: the collection names its CLIP
    assert result.exit_code == 0, result.output
    assert Path(json.loads(result.stdout)[0]["source"]).name == "chelsea.png"
    missing = runner.invoke(app, ["search", "--image", str(docs / "nope.png"), "--store", uri, "--collection", "photos"],
                            env={"COLUMNS": "400"})
    assert missing.exit_code == 2 and "nope.png" in missing.output and "does not exist" in missing.output


def test_eval_scores_image_queries_per_modality(photo_files, tmp_path):
    uri, docs, _ = photo_files
    queries = tmp_path / "queries.jsonl"
    lines = [{"id": name, "image": str(docs / f"{name}.png"), "source": f"{name}.png"} for name in PHOTOS]
    lines.append({"id": "descale", "query": "how often to descale the espresso machine", "source": "notes.md"})
    queries.write_text("\n".join(json.dumps(q) for q in lines) + "\n")
    result = runner.invoke(app, ["eval", "--queries", str(queries), "--store", uri, "--collection", "photos",
                                 "--modes", "dense,bm25", "--k", "1", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["modes"]["dense"]["modality:image"]["recall@1"] == 1.0
    assert data["modes"]["dense"]["modality:text"]["recall@1"] == 1.0
    assert data["modes"]["bm25"]["modality:image"]["recall@1"] == 0.0  # no text to match: a miss, said in the notes
    assert data["modes"]["bm25"]["modality:text"]["recall@1"] == 1.0
    assert data["notes"] and "image-only queries" in data["notes"][0]
