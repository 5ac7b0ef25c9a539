"""The collection records its ASR model like its embedding models: a run with
another model (or none) is refused with a sentence that names both, unless it
asks to re-transcribe; then the audio is read again and the new model recorded.
Tiny random Whispers (two copies: two model names), real Milvus Lite."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

import mmrag
from mmrag.asr import AsrSpec, WhisperTranscriber
from mmrag.cli import app
from mmrag.errors import ModelMismatchError
from mmrag.ingest import Status
from mmrag.manifest import pipeline_fingerprint
from mmrag.chunking import WindowOptions
from tests.media.media_files import tone, write_audio


@pytest.fixture(scope="module")
def two_whispers(tiny_whisper: Path, tmp_path_factory) -> tuple[Path, Path]:
    """The tiny Whisper and a copy with other random weights (so it says other noise)."""
    import torch
    from transformers import WhisperForConditionalGeneration

    other = tmp_path_factory.mktemp("whisper_b") / "whisper_b"
    shutil.copytree(tiny_whisper, other)
    model = WhisperForConditionalGeneration.from_pretrained(other)
    torch.manual_seed(1)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p))
    model.save_pretrained(other)
    return tiny_whisper, other


def _asr(path: Path) -> WhisperTranscriber:
    return WhisperTranscriber(str(path), language="en", max_new_tokens=8)


def test_fingerprint_names_the_asr_model_only_when_there_is_one() -> None:
    base = pipeline_fingerprint({}, WindowOptions())
    assert pipeline_fingerprint({}, WindowOptions(), None) == base  # collections without speech keep theirs
    a, b = (pipeline_fingerprint({}, WindowOptions(), AsrSpec(m, "en")) for m in ("a", "b"))
    assert len({base, a, b}) == 3


def test_asr_spec_round_trips_through_json() -> None:
    spec = AsrSpec("openai/whisper-small", "de")
    assert AsrSpec.from_json(spec.to_json()) == spec


@pytest.mark.slow
def test_another_asr_model_is_refused_or_retranscribes(two_whispers, tmp_path, text_embedder) -> None:
    a, b = two_whispers
    wav = write_audio(tmp_path / "memo.wav", tone(4.0))
    db = str(tmp_path / "s.db")
    first = mmrag.Index(db, embedder=text_embedder, asr_model=_asr(a))
    assert first.ingest([wav]).files[0].status is Status.INGESTED
    assert first.store.asr_model() == AsrSpec(str(a), "en")
    assert first.ingest([wav]).files[0].status is Status.UNCHANGED
    first.close()

    other = mmrag.Index(db, embedder=text_embedder, asr_model=_asr(b))
    with pytest.raises(ModelMismatchError, match=f"transcribed its speech with {a} .*this run uses {b} .*--retranscribe"):
        other.ingest([wav])
    with pytest.raises(ModelMismatchError):
        other.ingest([wav], dry_run=True)
    assert other.store.asr_model() == AsrSpec(str(a), "en")  # a refused run records nothing
    plan = other.ingest([wav], dry_run=True, retranscribe=True)
    assert plan.replace == [str(wav)]
    report = other.ingest([wav], retranscribe=True)
    assert report.files[0].status is Status.INGESTED, report.lines()
    assert other.store.asr_model() == AsrSpec(str(b), "en")
    speech = [h.chunk for h in other.search("memo", k=20, mode="dense")]
    assert speech and {c.metadata["asr_model"] for c in speech} == {str(b)}
    other.close()

    none = mmrag.Index(db, embedder=text_embedder)
    with pytest.raises(ModelMismatchError, match="this run has no ASR model; pass --asr-model"):
        none.ingest([wav])
    none.close()


@pytest.mark.slow
def test_cli_reuses_the_recorded_asr_model_and_refuses_another(two_whispers, tmp_path) -> None:
    a, b = two_whispers
    wav = write_audio(tmp_path / "memo.wav", tone(3.0))
    db = str(tmp_path / "c.db")
    run = CliRunner().invoke
    args = ["ingest", str(wav), "--store", db, "--json", "--asr-language", "en"]
    first = run(app, [*args, "--asr-model", str(a)])
    assert first.exit_code == 0, first.output
    again = run(app, args)  # no --asr-model: the collection's own
    assert again.exit_code == 0 and '"unchanged"' in again.output, again.output
    refused = run(app, [*args, "--asr-model", str(b)])
    assert refused.exit_code == 2 and f"transcribed its speech with {a}" in refused.output
    dry = run(app, [*args, "--asr-model", str(b), "--retranscribe", "--dry-run"])
    assert dry.exit_code == 0 and str(wav) in dry.output, dry.output
    redo = run(app, [*args, "--asr-model", str(b), "--retranscribe"])
    assert redo.exit_code == 0 and '"ingested"' in redo.output, redo.output


def test_weaviate_records_the_asr_model_beside_the_specs() -> None:
    pytest.importorskip("weaviate")
    from mmrag.embedding.base import EmbedderSpec
    from mmrag.stores.weaviate import asr_from_description, collection_config, description_with_asr, specs_from_description

    spaces = {"text": EmbedderSpec("m", 4)}
    plain = collection_config("docs", spaces)["description"]
    spec = AsrSpec("openai/whisper-small", None)
    recorded = description_with_asr(plain, spec)
    assert specs_from_description("Docs", recorded) == spaces
    assert asr_from_description(plain) is None and asr_from_description(recorded) == spec
    assert description_with_asr(recorded, None) == plain
