"""The faster-whisper (CTranslate2) backend behind the same Transcriber interface:
a tiny random transformers Whisper converted offline by ctranslate2's own
converter, its segments on the audio's timeline, and an audio file ingested
through ``--asr-model faster-whisper:PATH`` with that string recorded."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import mmrag
from mmrag.asr import AsrSpec, FasterWhisperTranscriber, WhisperTranscriber, transcriber_for
from mmrag.errors import InvalidArgument
from tests.media.media_files import tone, write_audio

ctranslate2 = pytest.importorskip("ctranslate2", reason="faster-whisper (and ctranslate2) not installed: pip install 'mmrag[faster-whisper]'")
pytest.importorskip("faster_whisper", reason="faster-whisper not installed: pip install 'mmrag[faster-whisper]'")


@pytest.fixture(scope="module")
def ct2_whisper(tiny_whisper: Path, tmp_path_factory) -> Path:
    """The tiny random Whisper converted to CTranslate2, with the tokenizer.json and
    preprocessor_config.json faster-whisper reads (else it would fetch openai's)."""
    from ctranslate2.converters import TransformersConverter
    from transformers import WhisperFeatureExtractor, WhisperTokenizerFast

    src = tmp_path_factory.mktemp("hf") / "whisper"
    shutil.copytree(tiny_whisper, src)
    WhisperTokenizerFast.from_pretrained(str(src)).save_pretrained(str(src))
    WhisperFeatureExtractor.from_pretrained(str(src)).save_pretrained(str(src))
    out = tmp_path_factory.mktemp("ct2") / "whisper-ct2"
    try:
        TransformersConverter(str(src), copy_files=["tokenizer.json", "preprocessor_config.json"]).convert(str(out))
    except Exception as exc:  # pragma: no cover - a converter that cannot read this transformers version
        pytest.skip(f"ctranslate2 cannot convert a tiny random Whisper offline here: {exc}")
    return out


def test_asr_model_names_pick_the_backend(tmp_path: Path) -> None:
    assert isinstance(transcriber_for(f"faster-whisper:{tmp_path}", "en"), FasterWhisperTranscriber)
    assert isinstance(transcriber_for("openai/whisper-small"), WhisperTranscriber)
    assert transcriber_for(f"faster-whisper:{tmp_path}").spec() == AsrSpec(f"faster-whisper:{tmp_path}", None)
    with pytest.raises(InvalidArgument, match="faster-whisper:PATH"):
        transcriber_for("faster-whisper:")


def test_ct2_segments_lie_on_one_timeline(ct2_whisper: Path) -> None:
    asr = FasterWhisperTranscriber(str(ct2_whisper), language="en", max_new_tokens=12, compute_type="float32")
    segments = list(asr.transcribe([tone(70.0)]))
    assert segments, "the random model said nothing at all"
    starts = [s.start for s in segments]
    assert starts == sorted(starts) and segments[-1].end <= 70.0
    assert any(s.start >= 50.0 for s in segments)  # the third window's speech is placed after its offset


@pytest.mark.slow
def test_cli_ingests_audio_with_faster_whisper(ct2_whisper: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from mmrag.cli import app

    wav = write_audio(tmp_path / "memo.wav", tone(35.0))
    db = str(tmp_path / "f.db")
    name = f"faster-whisper:{ct2_whisper}"
    result = CliRunner().invoke(app, ["ingest", str(wav), "--store", db, "--asr-model", name, "--asr-language", "en"])
    assert result.exit_code == 0, result.output
    index = mmrag.Index(db)
    try:
        assert index.store.asr_model() == AsrSpec(name, "en")
        chunks = [h.chunk for h in index.search("memo", k=10, mode="dense")]
        assert chunks and {c.metadata["asr_model"] for c in chunks} == {name}
        assert all(0 <= c.start < c.end <= 35.0 for c in chunks)
    finally:
        index.close()
    again = CliRunner().invoke(app, ["ingest", str(wav), "--store", db, "--json"])  # the recorded backend again
    assert again.exit_code == 0 and '"unchanged"' in again.output, again.output
