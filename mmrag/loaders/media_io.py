"""Reading audio and video with PyAV (the ``media`` extra): its wheel ships the
ffmpeg libraries, so nothing depends on a system ffmpeg.

Everything here streams: audio comes out in blocks of 16 kHz mono samples and
video as one frame at a time, so a two-hour file never sits whole in memory.
Every failure is a ``LoaderError`` that names the file.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mmrag.errors import LoaderError, MissingDependencyError

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image

SAMPLE_RATE = 16_000  # what Whisper (and most ASR models) are trained on
AUDIO_BLOCK_SECONDS = 30.0
# Containers declare their duration; a decode that stops well short of it means
# the file was cut off (a partial download or copy).
TRUNCATED_SHARE = 0.9


def media_available() -> bool:
    return importlib.util.find_spec("av") is not None


def _av() -> Any:
    if not media_available():
        raise MissingDependencyError("av", "media", "reading audio and video")
    import av

    return av


@dataclass(frozen=True, slots=True)
class MediaInfo:
    """What a container holds, read from its header."""

    duration: float | None  # seconds, as the container declares it
    has_video: bool
    has_audio: bool
    subtitle_codecs: tuple[str, ...]
    width: int = 0
    height: int = 0
    fps: float = 0.0


@contextmanager
def open_container(path: Path) -> Iterator[Any]:
    """An open PyAV input container; broken or truncated headers raise ``LoaderError``."""
    av = _av()
    try:
        container = av.open(str(path), mode="r", metadata_errors="ignore")
    except av.FFmpegError as exc:
        raise LoaderError(path, f"truncated or corrupt media container: {_reason(exc)}") from exc
    try:
        yield container
    finally:
        container.close()


def probe(path: Path) -> MediaInfo:
    """The streams and declared duration of ``path``."""
    with open_container(path) as c:
        video = c.streams.video[0] if c.streams.video else None
        duration = c.duration / 1_000_000 if c.duration else None
        if duration is None and video is not None and video.duration and video.time_base:
            duration = float(video.duration * video.time_base)
        fps = float(video.average_rate) if video is not None and video.average_rate else 0.0
        return MediaInfo(
            duration=duration,
            has_video=video is not None,
            has_audio=bool(c.streams.audio),
            subtitle_codecs=tuple(s.codec_context.name for s in c.streams.subtitles if s.codec_context),
            width=video.codec_context.width if video is not None else 0,
            height=video.codec_context.height if video is not None else 0,
            fps=fps,
        )


def audio_blocks(path: Path, block_seconds: float = AUDIO_BLOCK_SECONDS) -> Iterator[np.ndarray]:
    """The first audio stream as float32 mono blocks of ``block_seconds`` at 16 kHz
    (the last one shorter), resampled by ffmpeg's own resampler."""
    import numpy as np

    av = _av()
    block = int(block_seconds * SAMPLE_RATE)
    with open_container(path) as c:
        if not c.streams.audio:
            raise LoaderError(path, "no audio stream")
        stream = c.streams.audio[0]
        resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
        pending: list[np.ndarray] = []
        held = 0
        try:
            for frame in _decoded(path, c, stream):
                for out in resampler.resample(frame):
                    samples = out.to_ndarray().reshape(-1).astype(np.float32, copy=False)
                    pending.append(samples)
                    held += samples.size
                    while held >= block:
                        joined = np.concatenate(pending)
                        yield joined[:block]
                        pending, held = [joined[block:]], joined.size - block
            for out in resampler.resample(None):
                pending.append(out.to_ndarray().reshape(-1).astype(np.float32, copy=False))
        except av.FFmpegError as exc:
            raise LoaderError(path, f"corrupt audio data: {_reason(exc)}") from exc
        rest = np.concatenate(pending) if pending else np.zeros(0, np.float32)
        if rest.size:
            yield rest


def video_frames(path: Path) -> Iterator[tuple[float, Any]]:
    """``(seconds, av.VideoFrame)`` for every frame of the first video stream, decoded
    with ffmpeg's frame threads."""
    with open_container(path) as c:
        if not c.streams.video:
            raise LoaderError(path, "no video stream")
        stream = c.streams.video[0]
        stream.thread_type = "AUTO"
        for frame in _decoded(path, c, stream):
            if frame.pts is None:
                continue
            yield float(frame.pts * stream.time_base), frame


def _decoded(path: Path, container: Any, stream: Any) -> Iterator[Any]:
    """Frames of ``stream``; a broken packet mid-file is a truncated file."""
    av = _av()
    try:
        for packet in container.demux(stream):
            yield from packet.decode()
    except av.FFmpegError as exc:
        raise LoaderError(path, f"truncated or corrupt media data: {_reason(exc)}") from exc


def frame_at(path: Path, seconds: float) -> Image.Image:
    """The video frame shown at ``seconds`` (the first frame at or after it), as RGB.

    Seeks to the keyframe before ``seconds`` and decodes forward, so fetching a
    frame costs one GOP of decoding and leaves nothing on disk.
    """
    if seconds < 0:
        raise LoaderError(path, f"no frame at {seconds}s: times are >= 0")
    with open_container(path) as c:
        if not c.streams.video:
            raise LoaderError(path, "no video stream")
        stream = c.streams.video[0]
        av = _av()
        try:
            c.seek(int(seconds / stream.time_base), stream=stream, backward=True, any_frame=False)
            last = None
            for frame in _decoded(path, c, stream):
                if frame.pts is None:
                    continue
                last = frame
                if float(frame.pts * stream.time_base) >= seconds - 1e-3:
                    break
        except av.FFmpegError as exc:
            raise LoaderError(path, f"cannot seek to {seconds:.2f}s: {_reason(exc)}") from exc
        if last is None:
            raise LoaderError(path, f"no frame at {seconds:.2f}s")
        return last.to_image()


@dataclass(frozen=True, slots=True)
class SubtitlePacket:
    start: float
    end: float
    text: str


# Text subtitle codecs whose packets hold the cue text itself (mov_text prefixes a
# 2-byte length; ASS packets hold "ReadOrder,Layer,Style,Name,MarginL,MarginR,MarginV,Effect,Text").
TEXT_SUBTITLE_CODECS = frozenset({"subrip", "srt", "webvtt", "mov_text", "text", "ass", "ssa"})


def subtitle_packets(path: Path) -> list[SubtitlePacket]:
    """The cues of the first text subtitle stream inside the container, read from
    its packets (bitmap subtitles such as DVD/PGS have no text: none are returned)."""
    av = _av()
    with open_container(path) as c:
        streams = [s for s in c.streams.subtitles if s.codec_context and s.codec_context.name in TEXT_SUBTITLE_CODECS]
        if not streams:
            return []
        stream = streams[0]
        codec = stream.codec_context.name
        cues = []
        try:
            for packet in c.demux(stream):
                if packet.pts is None or packet.size == 0:
                    continue
                start = float(packet.pts * stream.time_base)
                end = start + float((packet.duration or 0) * stream.time_base)
                text = _packet_text(bytes(packet), codec)
                if text:
                    cues.append(SubtitlePacket(start, max(end, start), text))
        except av.FFmpegError as exc:
            raise LoaderError(path, f"corrupt subtitle stream: {_reason(exc)}") from exc
        return cues


def _packet_text(data: bytes, codec: str) -> str:
    if codec == "mov_text":
        data = data[2 : 2 + int.from_bytes(data[:2], "big")] if len(data) >= 2 else b""
    text = data.decode("utf-8", "replace")
    if codec in ("ass", "ssa"):
        text = text.split(",", 8)[-1].replace("\\N", " ").replace("\\n", " ")
    import re

    return " ".join(re.sub(r"<[^>]+>|\{[^}]*\}", "", text).split())


def _reason(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
