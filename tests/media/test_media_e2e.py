"""End to end: keyframes go into an image space (a tiny random CLIP) with their
scene's start/end, and the Daft engine carries --asr-model to its workers and
records it, as the single-process engine does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import mmrag
from mmrag.asr import AsrSpec
from mmrag.embedding.spaces import EmbeddingSpaces
from mmrag.loaders import open_image
from mmrag.types import ImageKind, ImageRef
from tests.media.media_files import tone, write_audio
from tests.mixed_files import needs_ocr

pytestmark = pytest.mark.slow


@needs_ocr
def test_keyframes_are_found_by_pixels_in_the_image_space(lecture: Path, tmp_path: Path, text_embedder) -> None:
    from mmrag.embedding.clip import ImageTextEmbedder
    from tests.embedding.tiny_models import build_clip

    clip = build_clip(tmp_path / "clip")
    spaces = EmbeddingSpaces({"text": text_embedder, "image": ImageTextEmbedder(str(clip))})
    index = mmrag.Index(str(tmp_path / "v.db"), embedder=spaces)
    try:
        assert index.ingest([lecture]).ok
        # a frame of the last slide, decoded from the video: no words in the query, only pixels
        frame = open_image(ImageRef(source=str(lecture), kind=ImageKind.VIDEO_FRAME, time=8.5))
        hit = index.search(image=frame, k=1, mode="dense")[0].chunk
        assert hit.modality is mmrag.Modality.IMAGE and hit.image.kind is ImageKind.VIDEO_FRAME
        assert (hit.start, hit.end) == (7.0, 10.0) and "Hiring" in hit.text
    finally:
        index.close()


def test_daft_engine_passes_the_asr_model_through(tiny_whisper: Path, tmp_path: Path) -> None:
    pytest.importorskip("daft")
    from mmrag.cli import app

    wav = write_audio(tmp_path / "memo.wav", tone(3.0))
    db = str(tmp_path / "d.db")
    args = ["ingest", str(wav), "--store", db, "--engine", "daft", "--workers", "1", "--json", "--asr-language", "en"]
    result = CliRunner().invoke(app, [*args, "--asr-model", str(tiny_whisper)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["files_ingested"] == 1
    index = mmrag.Index(db)
    try:
        assert index.store.asr_model() == AsrSpec(str(tiny_whisper), "en")
        assert {h.chunk.metadata["asr_model"] for h in index.search("memo", k=5, mode="dense")} == {str(tiny_whisper)}
    finally:
        index.close()
    again = CliRunner().invoke(app, args)  # the recorded model again, so the file is unchanged
    assert again.exit_code == 0 and json.loads(again.stdout)["files_unchanged"] == 1, again.output
