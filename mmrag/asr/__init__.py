"""Speech recognition: ``Transcriber`` (the interface), ``WhisperTranscriber`` (transformers)."""

from __future__ import annotations

from mmrag.asr.base import AsrSpec, Segment, Transcriber, check_asr, stitch, windows
from mmrag.asr.whisper import WhisperTranscriber


def transcriber_for(name: str, language: str | None = None) -> Transcriber:
    """The transcriber an ``--asr-model`` value names: a Hugging Face id or local path of a Whisper model."""
    return WhisperTranscriber(name, language=language)


__all__ = ["AsrSpec", "Segment", "Transcriber", "WhisperTranscriber", "check_asr", "stitch", "transcriber_for", "windows"]
