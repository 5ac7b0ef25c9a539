"""Real media files written by PyAV (libx264 + AAC, as a phone or screen recorder
would): lecture videos whose frames are PIL-rendered slides, tones and speech."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np

SIZE = (320, 180)


def slide(text: str, size: tuple[int, int] = SIZE):
    """A white slide with big black text, legible to OCR at this small size."""
    from PIL import Image, ImageDraw, ImageFont

    img = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=max(14, size[1] // 8))
    y = size[1] // 4
    for line in text.split("\n"):
        draw.text((size[0] // 12, y), line, fill="black", font=font)
        y += size[1] // 5
    return img


def write_video(
    path: Path, slides: list[tuple[str, float]], *, fps: int = 10, size: tuple[int, int] = SIZE,
    audio: np.ndarray | None = None, rate: int = 16_000, subtitles: list[tuple[float, float, str]] | None = None,
) -> Path:
    """An H.264 video showing each slide text for its seconds, with hard cuts between
    them, an AAC track from ``audio`` (mono float32) and, for .mkv, a SubRip stream."""
    import av

    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = size[0], size[1], "yuv420p"
        video.options = {"preset": "ultrafast", "g": str(fps * 2)}
        sound = None
        if audio is not None:
            sound = out.add_stream("aac", rate=rate, layout="mono")
        # ffmpeg's SubRip encoder wants an ASS header PyAV cannot set: the cues are
        # written as an .srt, read by ffmpeg's srt demuxer and copied in as packets
        srt = None
        if subtitles:
            srt = av.open(str(write_srt(path.with_suffix(".tmp.srt"), subtitles)))
            subs = out.add_stream_from_template(srt.streams.subtitles[0])
        n = 0
        for text, seconds in slides:
            picture = slide(text, size)
            for _ in range(round(seconds * fps)):
                frame = av.VideoFrame.from_image(picture)
                frame.pts = n
                frame.time_base = Fraction(1, fps)
                out.mux(video.encode(frame))
                n += 1
        out.mux(video.encode(None))
        if sound is not None:
            samples = audio.astype(np.float32).reshape(1, -1)
            step = 1024
            for i in range(0, samples.shape[1], step):
                frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples[:, i : i + step]), format="fltp", layout="mono")
                frame.sample_rate, frame.pts = rate, i
                out.mux(sound.encode(frame))
            out.mux(sound.encode(None))
        if srt is not None:
            for packet in srt.demux(srt.streams.subtitles[0]):
                if packet.size:
                    packet.stream = subs
                    out.mux(packet)
            srt.close()
            path.with_suffix(".tmp.srt").unlink()
    return path


def write_srt(path: Path, cues: list[tuple[float, float, str]]) -> Path:
    def ts(s: float) -> str:
        return f"{int(s // 3600):02d}:{int(s // 60 % 60):02d}:{int(s % 60):02d},{round(s % 1 * 1000):03d}"

    path.write_text("\n".join(f"{i}\n{ts(a)} --> {ts(b)}\n{t}\n" for i, (a, b, t) in enumerate(cues, 1)), encoding="utf-8")
    return path


def tone(seconds: float, rate: int = 16_000, hz: float = 440.0) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.2 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def write_audio(path: Path, samples: np.ndarray, rate: int = 16_000, codec: str = "pcm_s16le") -> Path:
    import av

    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=rate, layout="mono")
        fmt = "s16" if codec == "pcm_s16le" else stream.codec_context.format.name
        data = samples.reshape(1, -1)
        if fmt == "s16":
            data = (np.clip(data, -1, 1) * 32767).astype(np.int16)
        for i in range(0, data.shape[1], 1024):
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(data[:, i : i + 1024]), format=fmt, layout="mono")
            frame.sample_rate, frame.pts = rate, i
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def write_vtt(path: Path, cues: list[tuple[float, float, str]]) -> Path:
    def ts(s: float) -> str:
        return f"{int(s // 3600):02d}:{int(s // 60 % 60):02d}:{s % 60:06.3f}"

    body = "\n\n".join(f"{ts(a)} --> {ts(b)}\n{text}" for a, b, text in cues)
    path.write_text(f"WEBVTT\n\n{body}\n", encoding="utf-8")
    return path
