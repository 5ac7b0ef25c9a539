from __future__ import annotations

import json
from pathlib import Path

import pytest

from mmrag.errors import LoaderError, UnsupportedFileError
from mmrag.loaders import SrtLoader, VttLoader, WhisperJsonLoader, find_loader

SRT = """1
00:00:01,000 --> 00:00:03,500
Hello and <i>welcome</i>.

2
00:01:02,250 --> 00:01:05,000
Second cue.
"""

VTT = """WEBVTT

00:00:00.000 --> 00:00:02.000
<v Ana>Good morning.

00:00:02.000 --> 00:00:04.500
<v Ben>Morning, Ana.
"""


def load(path: Path):
    loader, _ = find_loader(path)
    return list(loader.load(path, str(path)))


def test_srt_cues_with_times(tmp_path: Path) -> None:
    path = tmp_path / "talk.srt"
    path.write_text(SRT, encoding="utf-8")
    elements = load(path)
    assert [(e.start, e.end, e.text) for e in elements] == [(1.0, 3.5, "Hello and welcome."), (62.25, 65.0, "Second cue.")]
    assert find_loader(path)[0].name == "srt"


def test_vtt_cues_with_speakers(tmp_path: Path) -> None:
    path = tmp_path / "call.vtt"
    path.write_text(VTT, encoding="utf-8")
    elements = load(path)
    assert [(e.start, e.end, e.text, e.metadata["speaker"]) for e in elements] == [
        (0.0, 2.0, "Good morning.", "Ana"),
        (2.0, 4.5, "Morning, Ana.", "Ben"),
    ]


def test_whisper_json_segments(tmp_path: Path) -> None:
    path = tmp_path / "meeting.json"
    segments = [
        {"start": 0.0, "end": 2.5, "text": " We ship on Friday.", "speaker": "SPEAKER_00"},
        {"start": 2.5, "end": 4.0, "text": " Agreed."},
    ]
    path.write_text(json.dumps({"text": "...", "segments": segments}), encoding="utf-8")
    elements = load(path)
    assert [(e.start, e.end, e.text) for e in elements] == [(0.0, 2.5, "We ship on Friday."), (2.5, 4.0, "Agreed.")]
    assert elements[0].metadata["speaker"] == "SPEAKER_00" and "speaker" not in elements[1].metadata


def test_json_that_is_not_a_transcript_is_skipped_as_unsupported(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text('{"name": "x"}')
    with pytest.raises(UnsupportedFileError, match="not a Whisper-style transcript"):
        load(path)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bad.srt", "1\n00:00:01,000 --> 00:0X:03,500\nHello.\n", "bad.srt: malformed SubRip file"),
        ("bad.vtt", "WEBVTT\n\n00:00:01.000 --> 00:00:xx.000\nHello.\n", "bad.vtt: malformed WebVTT file"),
        ("bad.json", json.dumps({"segments": [{"start": "1:00", "end": 2, "text": "Hi"}]}), "malformed timestamp start"),
        ("neg.json", json.dumps({"segments": [{"start": 5, "end": 2, "text": "Hi"}]}), "ends .* before it starts"),
    ],
)
def test_malformed_timestamps_are_clear_errors(tmp_path: Path, name: str, content: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(LoaderError, match=message):
        load(path)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("empty.srt", "\n\n"),
        ("empty.vtt", "WEBVTT\n\n"),
        ("empty.json", '{"segments": []}'),
        ("blank.srt", "1\n00:00:01,000 --> 00:00:02,000\n \n"),
    ],
)
def test_empty_transcript_is_a_clear_error(tmp_path: Path, name: str, content: str) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(LoaderError, match="empty transcript"):
        load(path)


@pytest.mark.parametrize("loader", [SrtLoader(), VttLoader(), WhisperJsonLoader()])
def test_non_utf8_text_is_decoded_with_a_fallback_and_a_note(tmp_path: Path, loader) -> None:
    text = {
        "srt": "1\n00:00:01,000 --> 00:00:02,000\nCafé crème, s'il vous plaît.\n",
        "vtt": "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nCafé crème, s'il vous plaît.\n",
        "whisper-json": json.dumps({"segments": [{"start": 1, "end": 2, "text": "Café crème, s'il vous plaît."}]},
                                   ensure_ascii=False),
    }[loader.name]
    path = tmp_path / f"latin.{'json' if loader.name == 'whisper-json' else loader.name}"
    path.write_bytes(text.encode("cp1252"))
    [element] = loader.load(path, str(path))
    assert element.text == "Café crème, s'il vous plaît."
    assert "not valid UTF-8" in element.metadata["decode_note"] and "cp1252" in element.metadata["decode_note"]
