"""Subtitle files that belong to a video: ``talk.vtt`` or ``talk.en.srt`` beside
``talk.mp4``. The video loader reads them as the video's speech, so the
subtitle loaders skip them (a folder ingest would otherwise index the speech twice)."""

from __future__ import annotations

from pathlib import Path

VIDEO_EXTENSIONS = frozenset({".mp4", ".mkv", ".webm", ".mov"})
SUBTITLE_EXTENSIONS = (".vtt", ".srt")


def sidecar_subtitles(video: Path) -> Path | None:
    """``talk.vtt``, ``talk.srt``, then ``talk.<lang>.vtt`` / ``talk.<lang>.srt`` beside ``talk.mp4``."""
    for ext in SUBTITLE_EXTENSIONS:
        exact = video.with_suffix(ext)
        if exact.is_file():
            return exact
    for ext in SUBTITLE_EXTENSIONS:
        tagged = sorted(p for p in video.parent.glob(f"{video.stem}.*{ext}") if p.stem.rsplit(".", 1)[0] == video.stem)
        if tagged:
            return tagged[0]
    return None


def video_of(subtitles: Path) -> Path | None:
    """The video whose sidecar ``subtitles`` is (the one that would read it), or None."""
    stems = {subtitles.stem, subtitles.stem.rsplit(".", 1)[0]}
    for stem in sorted(stems):
        for ext in sorted(VIDEO_EXTENSIONS):
            video = subtitles.with_name(stem + ext)
            if video.is_file() and sidecar_subtitles(video) == subtitles:
                return video
    return None
