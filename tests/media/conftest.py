"""A small lecture video built once per module: four slides (two identical in a
row), hard cuts, an AAC tone track and a sidecar .vtt."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.media.media_files import tone, write_video, write_vtt

SLIDES = [("Quarterly results\nrevenue up", 3.0), ("Roadmap 2027", 2.0), ("Roadmap 2027", 2.0), ("Hiring plan", 3.0)]
CUES = [
    (0.0, 3.0, "Welcome everyone, we start with the numbers of the last quarter."),
    (3.0, 7.0, "Next year we will build a lighthouse on the northern pier."),
    (7.0, 10.0, "Finally we are looking for three gardeners to join the team."),
]


@pytest.fixture(scope="session")
def lecture(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("lecture")
    video = write_video(folder / "talk.mp4", SLIDES, audio=tone(10.0))
    write_vtt(folder / "talk.vtt", CUES)
    return video


@pytest.fixture(scope="session")
def tiny_whisper(tmp_path_factory) -> Path:
    """A random-weight Whisper built from a tiny config, saved and loaded by path."""
    from tests.media.tiny_whisper import build_tiny_whisper

    return build_tiny_whisper(tmp_path_factory.mktemp("whisper"))
