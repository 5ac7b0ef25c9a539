"""A lecture video ingested and searched end to end (real MiniLM, real Milvus Lite,
a video written by PyAV with a sidecar .vtt): slide words land on the slide's
moment, spoken words on their cue, and the two are linked both ways."""

from __future__ import annotations

import shutil

import pytest
from typer.testing import CliRunner

import mmrag
from mmrag.cli import app
from mmrag.ingest import Status
from mmrag.loaders import open_image
from tests.mixed_files import needs_ocr

pytestmark = [pytest.mark.slow, needs_ocr]


@pytest.fixture(scope="module")
def ingested(lecture, tmp_path_factory, text_embedder):
    folder = tmp_path_factory.mktemp("talks")
    shutil.copy(lecture, folder / "talk.mp4")
    shutil.copy(lecture.with_suffix(".vtt"), folder / "talk.vtt")
    db = str(tmp_path_factory.mktemp("db") / "store.db")
    index = mmrag.Index(db, embedder=text_embedder)
    report = index.ingest([folder])
    yield index, report, db, folder
    index.close()


def test_the_sidecar_is_read_with_its_video_not_twice(ingested) -> None:
    _, report, _, _ = ingested
    status = {f.path.rsplit("/", 1)[-1]: f for f in report.files}
    assert status["talk.mp4"].status is Status.INGESTED
    assert status["talk.vtt"].status is Status.SKIPPED and "talk.mp4" in status["talk.vtt"].reason


def test_slide_words_land_on_the_slide_moment(ingested) -> None:
    index, _, _, _ = ingested
    hit = index.search("hiring plan", k=1)[0].chunk
    assert hit.modality is mmrag.Modality.IMAGE and (hit.start, hit.end) == (7.0, 10.0)
    assert open_image(hit.image).size == (320, 180)
    # the keyframe links the speech spoken while it was on screen
    spoken = index.store.get(hit.metadata["text_ids"])
    assert any("gardeners" in c.text for c in spoken)


def test_spoken_words_land_on_their_cue_and_its_keyframe(ingested) -> None:
    index, _, _, _ = ingested
    hit = index.search("lighthouse on the northern pier", k=1, mode="bm25")[0].chunk
    assert hit.modality is mmrag.Modality.TEXT and hit.start <= 3.0 < hit.end
    frames = index.store.get(hit.metadata["image_ids"])
    assert any("Roadmap" in f.text for f in frames)


def test_cli_prints_moments(ingested) -> None:
    index, _, db, _ = ingested
    result = CliRunner().invoke(app, ["search", "hiring plan", "--store", db, "--k", "1"])
    assert result.exit_code == 0, result.output
    assert "talk.mp4 0:07–0:10" in result.output
