"""Speech recognition: ``Transcriber`` (the interface), ``WhisperTranscriber``
(transformers) and ``FasterWhisperTranscriber`` (CTranslate2, optional)."""

from __future__ import annotations

from mmrag.asr.base import AsrSpec, Segment, Transcriber, check_asr, stitch, windows
from mmrag.asr.faster import PREFIX as FASTER_WHISPER_PREFIX
from mmrag.asr.faster import FasterWhisperTranscriber
from mmrag.asr.whisper import WhisperTranscriber


def transcriber_for(name: str, language: str | None = None) -> Transcriber:
    """The transcriber an ``--asr-model`` value names: ``faster-whisper:PATH`` (a
    CTranslate2 model folder), else a Hugging Face id or local path of a Whisper model."""
    if name.startswith(FASTER_WHISPER_PREFIX):
        path = name[len(FASTER_WHISPER_PREFIX):]
        if not path:
            from mmrag.errors import InvalidArgument

            raise InvalidArgument("--asr-model faster-whisper: needs a model folder: faster-whisper:PATH")
        return FasterWhisperTranscriber(path, language=language)
    return WhisperTranscriber(name, language=language)


__all__ = ["AsrSpec", "FasterWhisperTranscriber", "Segment", "Transcriber", "WhisperTranscriber", "check_asr", "stitch", "transcriber_for", "windows"]
