"""Whisper on CTranslate2 through faster-whisper (the ``faster-whisper`` extra): a
converted model folder (``ct2-transformers-converter --model ... --output_dir ...``
with ``tokenizer.json`` and ``preprocessor_config.json`` copied in) or a
faster-whisper size name that is already in the local Hugging Face cache.

``--asr-model faster-whisper:PATH`` selects it; the collection records that
string, so a later run picks the same backend. Nothing is downloaded:
``local_files_only`` is always set.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mmrag.asr.base import SAMPLE_RATE, AsrSpec, ModelTranscriber, Segment
from mmrag.errors import MissingDependencyError

PREFIX = "faster-whisper:"


def faster_whisper_available() -> bool:
    return importlib.util.find_spec("faster_whisper") is not None


@dataclass(kw_only=True)
class FasterWhisperTranscriber(ModelTranscriber):
    """faster-whisper behind the ``Transcriber`` interface: the same 30 s windows,
    overlap and stitching as ``WhisperTranscriber``; greedy decoding with segment
    timestamps, no voice-activity filter. faster-whisper decodes one window per
    call, so ``batch_size`` only sets how many windows are read ahead.

    Example::

        asr = FasterWhisperTranscriber("models/whisper-small-ct2", language="en", compute_type="int8")
        index = mmrag.Index("mmrag.db", asr_model=asr)   # or asr_model="faster-whisper:models/whisper-small-ct2"
    """

    model_path: str = field(kw_only=False)
    device: str = "auto"  # cpu, cuda or auto
    compute_type: str = "default"  # e.g. int8, float16, float32

    def spec(self) -> AsrSpec:
        return AsrSpec(PREFIX + self.model_path, self.language)

    def _open(self) -> Any:
        if not faster_whisper_available():
            raise MissingDependencyError("faster-whisper", "faster-whisper", "The faster-whisper ASR backend")
        from faster_whisper import WhisperModel

        return WhisperModel(self.model_path, device=self.device, compute_type=self.compute_type, local_files_only=True)

    def _transcribe_batch(self, audio: list[np.ndarray]) -> list[list[Segment]]:
        model = self._load()
        out = []
        for samples in audio:
            segments, _ = model.transcribe(
                samples, language=self.language, beam_size=1, temperature=0.0, condition_on_previous_text=False,
                vad_filter=False, max_new_tokens=self.max_new_tokens, without_timestamps=False,
            )
            duration = samples.size / SAMPLE_RATE
            out.append([Segment(float(s.start), float(min(s.end, duration)), s.text) for s in segments if s.text.strip()])
        return out
