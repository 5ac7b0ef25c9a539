"""Whisper through transformers: any Hugging Face id or local path."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mmrag.asr.base import SAMPLE_RATE, AsrSpec, ModelTranscriber, Segment
from mmrag.embedding.base import quiet_loading
from mmrag.embedding.device import resolve_device, resolve_dtype
from mmrag.embedding.loading import model_errors


@dataclass(kw_only=True)
class WhisperTranscriber(ModelTranscriber):
    """Whisper with segment timestamps, 30 s windows (5 s overlap), batched.

    Example::

        asr = WhisperTranscriber("openai/whisper-small", language="en", device="cuda")
        index = mmrag.Index("mmrag.db", asr_model=asr)
    """

    model_name: str = field(kw_only=False)
    device: str | None = None
    dtype: str = "auto"

    def spec(self) -> AsrSpec:
        return AsrSpec(self.model_name, self.language)

    def _open(self) -> Any:
        from transformers import WhisperForConditionalGeneration, WhisperProcessor

        device = resolve_device(self.device)
        with quiet_loading(), model_errors(self.model_name):
            processor = WhisperProcessor.from_pretrained(self.model_name, trust_remote_code=False)
            model = WhisperForConditionalGeneration.from_pretrained(self.model_name, trust_remote_code=False, dtype=resolve_dtype(self.dtype, device))
        return processor, model.to(device).eval(), device

    def _transcribe_batch(self, audio: list[np.ndarray]) -> list[list[Segment]]:
        import torch

        processor, model, device = self._load()
        features = processor.feature_extractor(audio, sampling_rate=SAMPLE_RATE, return_tensors="pt").input_features
        options: dict[str, Any] = {"return_timestamps": True, "task": "transcribe", "max_new_tokens": self.max_new_tokens}
        if self.language:
            options["language"] = self.language
        from transformers.utils import logging as hf_logging

        verbosity = hf_logging.get_verbosity()
        hf_logging.set_verbosity_error()  # per-call generation notices are not the user's business
        try:
            with torch.inference_mode():
                out = model.generate(features.to(device, model.dtype), **options)
        finally:
            hf_logging.set_verbosity(verbosity)
        sequences = out.sequences if hasattr(out, "sequences") else out
        return [self._segments(processor, ids, a.size / SAMPLE_RATE) for ids, a in zip(sequences, audio)]

    @staticmethod
    def _segments(processor: Any, ids: Any, duration: float) -> list[Segment]:
        """Timestamped segments; a window decoded without timestamps is one segment."""
        decoded = processor.tokenizer.decode(ids.tolist(), skip_special_tokens=True, output_offsets=True)  # a tensor warns in numpy 2
        offsets = decoded.get("offsets") or []
        segments = [Segment(float(o["timestamp"][0]), float(o["timestamp"][1] if o["timestamp"][1] is not None else duration), o["text"])
                    for o in offsets if o.get("text", "").strip()]
        if not segments and decoded["text"].strip():
            segments = [Segment(0.0, duration, decoded["text"])]
        return segments
