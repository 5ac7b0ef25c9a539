"""Speech recognition: ``Transcriber`` (the interface), ``WhisperTranscriber`` (transformers)."""

from mmrag.asr.base import AsrSpec, Segment, Transcriber, stitch, windows
from mmrag.asr.whisper import WhisperTranscriber

__all__ = ["AsrSpec", "Segment", "Transcriber", "WhisperTranscriber", "stitch", "windows"]
