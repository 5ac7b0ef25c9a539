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


@pytest.mark.slow
def test_a_new_asr_model_rereads_only_the_files_transcribed_by_asr(tiny_whisper, tmp_path, text_embedder) -> None:
    """A folder of a memo (speech by ASR), a talk whose speech is its sidecar
    subtitles, a silent-subtitled clip waiting for a model, and a note. With the
    first model the clip is transcribed; with another model only the memo and the
    clip are read again. The second model is a copy of the first (same weights,
    same words), yet every speech chunk is labelled with the model that made it."""
    from tests.media.media_files import write_video

    copy = tmp_path / "whisper_copy"
    shutil.copytree(tiny_whisper, copy)
    data = tmp_path / "data"
    data.mkdir()
    memo = write_audio(data / "memo.wav", tone(3.0))
    write_video(data / "talk.mp4", [("Harbour map", 2.0)], audio=tone(2.0))
    (data / "talk.vtt").write_text("WEBVTT\n\n00:00.000 --> 00:02.000\nThe ferry leaves at noon.\n")
    clip = write_video(data / "clip.mp4", [("Lighthouse", 2.0)], audio=tone(2.0))
    (data / "note.txt").write_text("Buy rope for the dinghy.")
    db = str(tmp_path / "s.db")

    plain = mmrag.Index(db, embedder=text_embedder)
    first = plain.ingest([data])
    assert first.ok, first.lines()
    plain.close()
    with_a = mmrag.Index(db, embedder=text_embedder, asr_model=_asr(tiny_whisper))
    plan = with_a.ingest([data], dry_run=True)
    # the clip's speech waited for a model; the memo was skipped without one; nothing else changes
    # (the sidecar talk.vtt is a problem, skipped as the talk's speech, as a run reports it)
    assert (plan.add, plan.replace) == ([str(memo)], [str(clip)])
    assert {Path(f.path).name for f in with_a.ingest([data]).files if f.status is Status.INGESTED} == {"clip.mp4", "memo.wav"}
    with_a.close()

    with_copy = mmrag.Index(db, embedder=text_embedder, asr_model=_asr(copy))
    plan = with_copy.ingest([data], dry_run=True, retranscribe=True)
    assert sorted(plan.replace) == sorted([str(memo), str(clip)])
    report = with_copy.ingest([data], retranscribe=True)
    by_name = {Path(f.path).name: f.status for f in report.files}
    assert by_name["memo.wav"] is by_name["clip.mp4"] is Status.INGESTED, report.lines()
    assert by_name["note.txt"] is by_name["talk.mp4"] is Status.UNCHANGED, report.lines()
    store = with_copy.store
    ids = store.chunk_ids_of([s.doc_id for s in store.sources()])
    stored = store.get(sorted(i for group in ids.values() for i in group))
    speech = [c for c in stored if c.metadata.get("asr_model")]
    assert {Path(c.source).name for c in speech} == {"memo.wav", "clip.mp4"}
    assert speech and {c.metadata["asr_model"] for c in speech} == {str(copy)}
    with_copy.close()
