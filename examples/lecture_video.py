"""The demo's lecture video: examples/data/volcano_lecture.mp4 and its sidecar .vtt.

Four PIL-rendered slides, ten seconds each with hard cuts, encoded by PyAV
(libx264, 4 frames a second, 480x270) with an AAC track (a quiet tone: the
words come from the sidecar subtitles, as a lecture recorder would ship them).
Written by make_data.py; tests/media/test_demo_video.py checks that the demo's
two lecture queries land on the moments listed here.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

SIZE = (480, 270)
FPS = 4
SLIDE_SECONDS = 10
SLIDES = [
    "Volcanoes 101\na short lecture",
    "Listening to a volcano\nseismometers and tiltmeters",
    "Shield volcanoes\nMauna Loa, Hawaii",
    "Staying safe\nevacuation zones",
]
# Two cues per slide; the speech says what the slides do not, so a spoken-word
# query can only be answered by the transcript.
CUES = [
    "Welcome, everyone. Today we look at why the ground sometimes opens and pours out molten rock.",
    "By the end of the hour you should be able to read a hazard map of your own town.",
    "We place instruments on the flanks and record every small tremor, day and night.",
    "When the mountain swells by a few millimetres, we know that fresh melt is arriving.",
    "Lava from Mauna Loa once reached the outskirts of Hilo and stopped just short of the houses.",
    "These gentle slopes are built from thousands of thin flows stacked over a million years.",
    "Know your route out of town and keep a bag packed with water, masks and a radio.",
    "Leave early when the authorities call for it; roads fill up within the first hour.",
]
SLIDE_QUERY = ("which slide mentions seismometers and tiltmeters?", 1)  # the query and its slide
SPEECH_QUERY = ("did the lava reach the town of Hilo?", 4)  # the query and its cue


def slide_span(n: int) -> tuple[float, float]:
    """Seconds of the video during which slide ``n`` is on screen."""
    return float(n * SLIDE_SECONDS), float((n + 1) * SLIDE_SECONDS)


def cue_span(n: int) -> tuple[float, float]:
    half = SLIDE_SECONDS / 2
    return n * half, (n + 1) * half


def render(text: str) -> Image.Image:
    img = Image.new("RGB", SIZE, "white")
    draw = ImageDraw.Draw(img)
    title, _, subtitle = text.partition("\n")
    draw.text((30, 70), title, fill="black", font=ImageFont.load_default(size=34))
    draw.text((30, 150), subtitle, fill=(40, 40, 40), font=ImageFont.load_default(size=28))
    return img


def write_lecture_video(path: Path) -> Path:
    """The video at ``path`` and its sidecar subtitles at ``path`` with ``.vtt``."""
    import av

    seconds = len(SLIDES) * SLIDE_SECONDS
    with av.open(str(path), "w", options={"fflags": "+bitexact"}) as out:
        video = out.add_stream("libx264", rate=FPS)
        video.width, video.height, video.pix_fmt = SIZE[0], SIZE[1], "yuv420p"
        video.options = {"preset": "veryfast", "g": str(FPS * SLIDE_SECONDS), "threads": "1", "flags": "+bitexact"}
        sound = out.add_stream("aac", rate=16_000, layout="mono")
        sound.bit_rate = 16_000
        sound.options = {"flags": "+bitexact"}
        n = 0
        for text in SLIDES:
            frame = av.VideoFrame.from_image(render(text))
            for _ in range(SLIDE_SECONDS * FPS):
                frame.pts, frame.time_base = n, Fraction(1, FPS)
                out.mux(video.encode(frame))
                n += 1
        out.mux(video.encode(None))
        t = np.arange(seconds * 16_000) / 16_000
        samples = (0.05 * np.sin(2 * np.pi * 220 * t)).astype(np.float32).reshape(1, -1)
        for i in range(0, samples.shape[1], 1024):
            chunk = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples[:, i : i + 1024]), format="fltp", layout="mono")
            chunk.sample_rate, chunk.pts = 16_000, i
            out.mux(sound.encode(chunk))
        out.mux(sound.encode(None))

    def ts(s: float) -> str:
        return f"{int(s // 3600):02d}:{int(s // 60 % 60):02d}:{s % 60:06.3f}"

    body = "\n\n".join(f"{ts(a)} --> {ts(b)}\n{text}" for text, (a, b) in ((c, cue_span(i)) for i, c in enumerate(CUES)))
    path.with_suffix(".vtt").write_text(f"WEBVTT\n\n{body}\n", encoding="utf-8")
    return path
