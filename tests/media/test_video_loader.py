"""The video loader on real files written by PyAV: scenes, keyframes, OCR,
speech sources, and named errors for bad input."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mmrag.errors import LoaderError, UnsupportedFileError
from mmrag.loaders import find_loader, open_image
from mmrag.loaders.media import NO_ASR, MediaLoader, moment
from mmrag.loaders.sidecars import sidecar_subtitles
from mmrag.types import ImageKind, Modality
from tests.media.media_files import tone, write_audio, write_video
from tests.mixed_files import needs_ocr


def frames_and_cues(path: Path, **options):
    elements = list(MediaLoader(**options).load(path, str(path)))
    return [e for e in elements if e.modality is Modality.IMAGE], [e for e in elements if e.modality is Modality.TEXT]


@pytest.mark.slow
@needs_ocr
def test_one_keyframe_per_slide_with_its_span_and_text(lecture: Path) -> None:
    frames, cues = frames_and_cues(lecture)
    # the two identical "Roadmap 2027" slides in a row give one keyframe
    assert [(f.start, f.end) for f in frames] == [(0.0, 3.0), (3.0, 7.0), (7.0, 10.0)]
    assert ["Quarterly" in frames[0].text, "Roadmap 2027" in frames[1].text, "Hiring plan" in frames[2].text] == [True] * 3
    assert all(f.image.kind is ImageKind.VIDEO_FRAME and f.start <= f.image.time < f.end for f in frames)
    assert [c.start for c in cues] == [0.0, 3.0, 7.0]  # the sidecar talk.vtt
    assert "lighthouse" in cues[1].text


def test_frame_is_fetched_from_the_video_by_its_time(lecture: Path) -> None:
    frames, _ = frames_and_cues(lecture, ocr=False)
    image = open_image(frames[1].image)
    assert image.size == (320, 180)
    # the second slide is on screen: its frame differs from the first one's
    assert image.tobytes() != open_image(frames[0].image).tobytes()


def test_sidecar_with_a_language_tag_is_found(tmp_path: Path) -> None:
    video = tmp_path / "talk.mp4"
    video.write_bytes(b"")
    (tmp_path / "talk.en.srt").write_text("1\n00:00:00,000 --> 00:00:01,000\nhi\n", encoding="utf-8")
    (tmp_path / "talkative.srt").write_text("not this one", encoding="utf-8")
    assert sidecar_subtitles(video) == tmp_path / "talk.en.srt"


def test_subtitle_stream_in_the_container_is_the_speech(tmp_path: Path) -> None:
    video = write_video(tmp_path / "clip.mkv", [("Chapter one", 2.0)], subtitles=[(0.2, 1.5, "The owl flies at midnight.")])
    _, cues = frames_and_cues(video, ocr=False)
    assert [(c.start, c.end, c.text) for c in cues] == [(0.2, 1.5, "The owl flies at midnight.")]
    assert cues[0].metadata["speech"] == "subtitle stream"


def test_video_without_asr_notes_that_speech_was_not_transcribed(tmp_path: Path) -> None:
    video = write_video(tmp_path / "quiet.mp4", [("Only slides", 1.0)], audio=tone(1.0))
    frames, cues = frames_and_cues(video, ocr=False)
    assert len(frames) == 1 and not cues
    assert NO_ASR in frames[0].metadata["decode_note"]


def test_audio_only_mp4_is_read_as_audio_and_needs_an_asr_model(tmp_path: Path) -> None:
    audio = write_audio(tmp_path / "voice.mp4", tone(1.0), codec="aac")
    loader, _ = find_loader(audio)
    assert isinstance(loader, MediaLoader)
    with pytest.raises(UnsupportedFileError, match="pass --asr-model ID_OR_PATH"):
        list(loader.load(audio, str(audio)))


def test_truncated_video_is_a_named_error(lecture: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(lecture.read_bytes()[: lecture.stat().st_size // 2])
    with pytest.raises(LoaderError, match="truncated"):
        list(MediaLoader(ocr=False).load(cut, str(cut)))


def test_over_long_file_is_refused_with_its_length(lecture: Path, tmp_path: Path) -> None:
    copy = shutil.copy(lecture, tmp_path / "long.mp4")
    with pytest.raises(LoaderError, match=r"0:00:10 is over the limit of 0:00:05"):
        list(MediaLoader(max_seconds=5).load(Path(copy), str(copy)))


def test_moments_print_as_minutes_and_seconds() -> None:
    assert (moment(754.9), moment(5), moment(3723)) == ("12:34", "0:05", "1:02:03")
