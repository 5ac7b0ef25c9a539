"""Chunking: Elements to Chunks, with overlap and context kept."""

from mmrag.chunking.chunker import Chunker, contextualize
from mmrag.chunking.transcript import TimeWindow, transcript_windows
from mmrag.chunking.windows import WindowOptions, token_windows

__all__ = ["Chunker", "TimeWindow", "WindowOptions", "contextualize", "token_windows", "transcript_windows"]
