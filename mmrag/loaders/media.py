"""Audio and video files (the ``media`` extra, PyAV).

A video gives one IMAGE element per scene (its keyframe, OCR'd, with the
scene's start/end; consecutive keyframes of the same slide are merged) and the
speech as timed text cues, from the first source that exists: a sidecar
subtitle file with the same stem (``talk.vtt``, ``talk.en.srt``), a text
subtitle stream inside the container, or speech recognition of the audio
track. An audio file (or a video container with no picture) gives its speech
cues. The chunker then links each transcript window to the keyframes on screen
while it was spoken, and each keyframe to its windows.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mmrag.errors import InvalidArgument, LoaderError, UnsupportedFileError
from mmrag.loaders.base import Decoded, Loader
from mmrag.loaders.media_io import SAMPLE_RATE, TRUNCATED_SHARE, MediaInfo, audio_blocks, probe, subtitle_packets, video_frames
from mmrag.loaders.ocr import OCR_SKIPPED, ocr_available, ocr_image
from mmrag.loaders.sidecars import VIDEO_EXTENSIONS, sidecar_subtitles
from mmrag.loaders.scenes import Scene, SceneCutter, SceneOptions, changed_share
from mmrag.loaders.subtitles import Cue
from mmrag.loaders.transcript import SrtLoader, VttLoader
from mmrag.types import Element, ImageKind, ImageRef, Modality

if TYPE_CHECKING:
    from mmrag.asr import Transcriber

AUDIO_EXTENSIONS = frozenset({".wav", ".mp3", ".m4a", ".flac", ".ogg", ".opus"})
NO_ASR = "audio needs an ASR model: pass --asr-model ID_OR_PATH"
# Metadata of a video's keyframes when its speech was not transcribed for want of an ASR model.
SPEECH_PENDING = "speech_pending"
DEFAULT_MAX_SECONDS = 4 * 3600.0


def _format_duration(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


def speech_from_asr(metadata: Mapping[str, Any]) -> bool:
    """Whether a chunk's text came from speech recognition (``asr_model``), or its
    file's speech waits for an ASR model: a new ASR model re-reads such a file, and
    only such (not a video whose speech is its subtitles, nor any other file)."""
    return bool(metadata.get("asr_model") or metadata.get(SPEECH_PENDING))


def moment(seconds: float) -> str:
    """``754.2`` -> ``12:34`` (``1:02:03`` past an hour): how hits name a moment."""
    s = int(seconds)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


@dataclass
class MediaLoader(Loader):
    """Audio (.wav .mp3 .m4a .flac .ogg .opus) and video (.mp4 .mkv .webm .mov).

    Example::

        loader = MediaLoader(asr=WhisperTranscriber("openai/whisper-small"), scenes=SceneOptions(max_scene=60))
        elements = list(loader.load(Path("talk.mp4"), "talk.mp4"))

    Without ``asr``, a file whose speech has no subtitles is skipped with a
    message saying what to pass. ``max_seconds`` refuses over-long files.
    """

    asr: Transcriber | None = None
    scenes: SceneOptions = field(default_factory=SceneOptions)
    ocr: bool = True
    max_seconds: float = DEFAULT_MAX_SECONDS

    name = "media"
    extensions = AUDIO_EXTENSIONS | VIDEO_EXTENSIONS

    def sniff(self, head: bytes, path: Path) -> bool:
        if head[4:8] == b"ftyp":  # MP4, MOV, M4A
            return True
        if head.startswith(b"RIFF"):
            return head[8:12] == b"WAVE"
        if head.startswith((b"\x1a\x45\xdf\xa3", b"fLaC", b"OggS", b"ID3")):
            return True
        return len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0 and path.suffix.lower() == ".mp3"

    def __post_init__(self) -> None:
        if self.max_seconds <= 0:
            raise InvalidArgument(f"max_seconds must be > 0, got {self.max_seconds}")
        self.signatures = (b"",)  # by content: sniff decides

    def declines(self, path: Path) -> None:
        """Audio with no ASR model is skipped (``NO_ASR``); a dry run says so too."""
        if self.asr is None:
            info = probe(path)
            if info.has_audio and not info.has_video and not info.subtitle_codecs:
                raise UnsupportedFileError(path, NO_ASR)

    def decoded_size(self, path: Path) -> Decoded | None:
        """From the header: for the audio that ASR would read, its whole track as
        16 kHz float32 samples (duration x 16,000 x 4 bytes); for video, the frames
        held decoded at once (ffmpeg's frame threads in flight plus two keyframe
        pictures, at the declared frame size). Not frames x duration: frames are
        streamed one at a time, and the length is bounded by ``max_seconds``."""
        info = probe(path)
        parts: list[tuple[int, str]] = []
        if info.has_video and info.width and info.height:
            frames = (os.cpu_count() or 1) + 2
            held = info.width * info.height * (frames * 3 // 2 + 2 * 3)  # YUV 4:2:0 frames + two RGB pictures
            parts.append((held, f"{frames} frames of {info.width}x{info.height} in flight and 2 pictures"))
        transcribed = self.asr is not None and (not info.has_video or (not info.subtitle_codecs and sidecar_subtitles(path) is None))
        if info.has_audio and transcribed and info.duration:
            parts.append((int(info.duration * SAMPLE_RATE * 4), f"{_format_duration(info.duration)} of audio at 16 kHz"))
        if not parts:
            return None
        return Decoded(sum(n for n, _ in parts), " + ".join(what for _, what in parts))

    def load(self, path: Path, source: str) -> Iterator[Element]:
        info = probe(path)
        if info.duration is not None and info.duration > self.max_seconds:
            raise LoaderError(
                path, f"too long: {_format_duration(info.duration)} is over the limit of "
                f"{_format_duration(self.max_seconds)} (raise max_seconds to read it)",
            )
        if info.has_video:
            yield from self._video(path, source, info)
        elif info.has_audio:
            note = "audio-only container: read as audio" if path.suffix.lower() in VIDEO_EXTENSIONS else None
            yield from self._speech(path, source, info, note, required=True)
        else:
            raise LoaderError(path, "no video stream and no audio stream")

    # -- video ---------------------------------------------------------------
    def _video(self, path: Path, source: str, info: MediaInfo) -> Iterator[Element]:
        meta: dict[str, Any] = {"document_title": path.name, "width": info.width, "height": info.height}
        unheard = info.has_audio and self.asr is None and not info.subtitle_codecs and sidecar_subtitles(path) is None
        if unheard:
            meta["decode_note"] = f"speech not transcribed: {NO_ASR}"
            meta[SPEECH_PENDING] = True
        yield from self._keyframes(path, source, info, meta)
        yield from self._speech(path, source, info, None, required=False)

    def _keyframes(self, path: Path, source: str, info: MediaInfo, meta: dict[str, Any]) -> Iterator[Element]:
        o = self.scenes
        cutter = SceneCutter(o)
        width = min(o.thumb_width, info.width or o.thumb_width)
        height = max(2, round(width * (info.height or 9) / (info.width or 16)) // 2 * 2)
        pending: tuple[Scene, str] | None = None
        next_sample, last_t = 0.0, 0.0

        def scenes() -> Iterator[Scene]:
            nonlocal next_sample, last_t
            for t, frame in video_frames(path):
                last_t = t
                if t + 1e-6 < next_sample:
                    continue
                next_sample = t + 1.0 / o.sample_fps
                thumb = frame.reformat(width=width, height=height, format="gray").to_ndarray()
                yield from cutter.feed(t, thumb, frame.to_image)
            end = max(last_t + 1.0 / (info.fps or o.sample_fps), info.duration or 0.0)
            if info.duration and last_t < TRUNCATED_SHARE * info.duration - 1.0:
                raise LoaderError(path, f"truncated: frames stop at {last_t:.1f}s of a declared {info.duration:.1f}s")
            yield from cutter.finish(end)

        for scene in scenes():
            if pending is not None and changed_share(pending[0].thumb, scene.thumb, o.pixel_delta) <= o.threshold:
                pending[0].end = scene.end  # the same slide again: one keyframe
                continue
            text = self._ocr(scene)
            if pending is not None and text and text == pending[1]:
                pending[0].end = scene.end
                continue
            if pending is not None:
                yield self._frame_element(source, *pending, meta)
            pending = (scene, text)
        if pending is None:
            raise LoaderError(path, "no decodable video frame")
        yield self._frame_element(source, *pending, meta)

    def _ocr(self, scene: Scene) -> str:
        if not self.ocr or not ocr_available():
            return ""
        return ocr_image(scene.image)

    def _frame_element(self, source: str, scene: Scene, text: str, meta: dict[str, Any]) -> Element:
        extra: dict[str, Any] = {"sha1": hashlib.sha1(scene.thumb.tobytes()).hexdigest(), "keyframe": round(scene.key_time, 3)}
        if self.ocr and not ocr_available():
            extra[OCR_SKIPPED] = "video frame"
        elif self.ocr:
            extra["ocr_text"] = text
        return Element(
            source=source,
            modality=Modality.IMAGE,
            text=text,
            image=ImageRef(source=source, kind=ImageKind.VIDEO_FRAME, time=round(scene.key_time, 3)),
            start=round(scene.start, 3),
            end=round(max(scene.end, scene.start), 3),
            metadata={**meta, **extra},
        )

    # -- speech --------------------------------------------------------------
    def _speech(self, path: Path, source: str, info: MediaInfo, note: str | None, *, required: bool) -> Iterator[Element]:
        meta: dict[str, Any] = {"document_title": path.name}
        if note:
            meta["decode_note"] = note
        sidecar = sidecar_subtitles(path) if info.has_video else None
        if sidecar is not None:
            loader = VttLoader(sidecar=True) if sidecar.suffix.lower() == ".vtt" else SrtLoader(sidecar=True)
            for element in loader.load(sidecar, str(sidecar)):
                yield Element(
                    source=source, modality=Modality.TEXT, text=element.text, start=element.start, end=element.end,
                    metadata={**element.metadata, **meta, "speech": f"subtitles {sidecar.name}"},
                )
            return
        packets = subtitle_packets(path) if info.subtitle_codecs else []
        if packets:
            cues = [Cue(p.start, p.end, p.text) for p in packets]
            meta["speech"] = "subtitle stream"
        elif not info.has_audio:
            return
        elif self.asr is None:
            if required:
                raise UnsupportedFileError(path, NO_ASR)
            return
        else:
            cues = [Cue(s.start, s.end, s.text) for s in self.asr.transcribe(audio_blocks(path))]
            meta["speech"] = f"asr {self.asr.spec().model_name}"
            meta["asr_model"] = self.asr.spec().model_name
        for cue in cues:
            if cue.text.strip():
                yield Element(source=source, modality=Modality.TEXT, text=" ".join(cue.text.split()),
                              start=round(cue.start, 3), end=round(max(cue.end, cue.start), 3), metadata=meta)


__all__ = [
    "AUDIO_EXTENSIONS", "NO_ASR", "VIDEO_EXTENSIONS", "MediaLoader", "moment", "sidecar_subtitles", "speech_from_asr",
]
