"""Transcripts: SubRip (.srt), WebVTT (.vtt), both read tolerantly by
``subtitles``, and Whisper-style JSON. One text element per cue, with start/end seconds and the speaker when known;
the chunker packs cues into time windows that end at sentence ends."""

from __future__ import annotations

import codecs
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mmrag.errors import LoaderError, UnsupportedFileError
from mmrag.loaders.base import Loader, TextFormatLoader
from mmrag.loaders.sidecars import video_of
from mmrag.loaders.subtitles import Cue, decode_subtitle, parse
from mmrag.loaders.text import decode_text, read_text, read_text_bytes
from mmrag.types import Element, Modality


def cue_elements(
    path: Path, source: str, cues: list[Cue], note: str | None, load_note: str | None = None
) -> Iterator[Element]:
    """Elements for the non-blank cues; an empty transcript is an error, not a skip."""
    kept = [c for c in cues if c.text.strip()]
    if not kept:
        raise LoaderError(path, "empty transcript: no cue with text")
    meta: dict[str, Any] = {"document_title": path.name}
    if note:
        meta["decode_note"] = note
    if load_note:
        meta["load_note"] = load_note
    for i, cue in enumerate(kept):
        if cue.end < cue.start:
            raise LoaderError(path, f"cue {i + 1}: ends ({cue.end:.3f}s) before it starts ({cue.start:.3f}s)")
        yield Element(
            source=source,
            modality=Modality.TEXT,
            text=" ".join(cue.text.split()),
            start=cue.start,
            end=cue.end,
            metadata={**meta, "speaker": cue.speaker} if cue.speaker else meta,
        )


def _subtitle_elements(path: Path, source: str, *, webvtt: bool) -> Iterator[Element]:
    """Cues of a SubRip or WebVTT file, read tolerantly (see ``subtitles``); the
    repairs go into one note, and a file without a valid cue is a named error."""
    data = read_text_bytes(path)
    wide = decode_subtitle(data)
    text, note = (wide, None) if wide is not None else decode_text(path, data)
    parsed = parse(text, webvtt=webvtt)
    kind = "WebVTT" if webvtt else "SubRip"
    if not parsed.cues and parsed.problems:
        raise LoaderError(path, f"malformed {kind} file: no valid cue ({parsed.problems[0]})")
    yield from cue_elements(path, source, parsed.cues, note, parsed.note())


class _SubtitleLoader(Loader):
    """What SubRip and WebVTT share: a video's sidecar is left to the video
    (unless this loader reads it for the video loader), the cues are read tolerantly."""

    webvtt = False

    def __init__(self, *, sidecar: bool = False) -> None:
        self.sidecar = sidecar  # True: reading a video's subtitles for the video loader

    def declines(self, path: Path) -> None:
        """A video's sidecar subtitles are read with the video, not as a transcript of their own."""
        video = None if self.sidecar else video_of(path)
        if video is not None:
            raise UnsupportedFileError(path, f"subtitles of {video.name}: read as that video's speech")

    def load(self, path: Path, source: str) -> Iterator[Element]:
        self.declines(path)
        yield from _subtitle_elements(path, source, webvtt=self.webvtt)


class SrtLoader(_SubtitleLoader):
    """SubRip subtitles (UTF-8, legacy code pages or UTF-16), read as players read them."""

    name = "srt"
    extensions = frozenset({".srt"})

    def sniff(self, head: bytes, path: Path) -> bool:
        return path.suffix.lower() in self.extensions and (b"\x00" not in head or decode_subtitle(head) is not None)


class VttLoader(_SubtitleLoader):
    """WebVTT captions (streaming services, YouTube auto-captions); ``<v Speaker>``
    voice spans give the speaker."""

    name = "vtt"
    extensions = frozenset({".vtt"})
    signatures = (
        b"WEBVTT", codecs.BOM_UTF8 + b"WEBVTT",
        codecs.BOM_UTF16_LE + "WEBVTT".encode("utf-16-le"), codecs.BOM_UTF16_BE + "WEBVTT".encode("utf-16-be"),
    )
    webvtt = True


class WhisperJsonLoader(TextFormatLoader):
    """Whisper-style JSON: ``{"segments": [{"start", "end", "text", "speaker"?}]}``.

    Other JSON files are skipped as unsupported, not failed: a folder of data
    often holds JSON that is not a transcript.
    """

    name = "whisper-json"
    extensions = frozenset({".json"})

    def load(self, path: Path, source: str) -> Iterator[Element]:
        text, note = read_text(path)
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise LoaderError(path, f"invalid JSON: {exc}") from exc
        if not isinstance(data, dict) or not isinstance(data.get("segments"), list):
            raise UnsupportedFileError(path, "JSON that is not a Whisper-style transcript (no 'segments' list)")
        cues = [_segment(path, i, seg) for i, seg in enumerate(data["segments"])]
        yield from cue_elements(path, source, cues, note)


def _segment(path: Path, i: int, seg: Any) -> Cue:
    if not isinstance(seg, dict):
        raise LoaderError(path, f"segment {i}: expected an object, got {type(seg).__name__}")
    times = []
    for key in ("start", "end"):
        value = seg.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            raise LoaderError(path, f"segment {i}: malformed timestamp {key}={value!r} (need seconds >= 0)")
        times.append(float(value))
    text = seg.get("text")
    if not isinstance(text, str):
        raise LoaderError(path, f"segment {i}: 'text' must be a string, got {type(text).__name__}")
    speaker = seg.get("speaker")
    return Cue(times[0], times[1], text, str(speaker) if speaker not in (None, "") else None)
