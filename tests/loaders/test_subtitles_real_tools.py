"""Subtitles in the shapes real tools write, read tolerantly.

Where the shapes come from:
- STREAMING: a streaming service's WebVTT (the layout of Netflix/Amazon caption
  downloads): BOM, CRLF line ends, a STYLE block, a REGION block, NOTE comments,
  cue identifiers, cue settings after the timing (``position:``, ``line:``,
  ``align:``, ``size:``) and lines holding only spaces.
- YOUTUBE: an auto-caption file as ``yt-dlp --write-auto-subs`` saves it: a
  ``Kind:``/``Language:`` header, ``align:start position:0%`` on every cue, inline
  word timings ``<00:00:01.120><c> word</c>``, each cue repeating the line before it,
  and 10 ms cues that only repeat a line.
- SubRip by hand-editing tools: missing blank lines, ``.`` before the milliseconds,
  a ``-->`` inside the text, and "Unicode" (UTF-16 with a BOM) as Subtitle Edit and
  Aegisub save it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mmrag.errors import LoaderError
from mmrag.loaders import find_loader

STREAMING = (
    "\ufeffWEBVTT\r\n\r\n"
    "STYLE\r\n::cue(.yellow) { color: yellow; }\r\n\r\n"
    "REGION\r\nid:bottom width:80% lines:3 regionanchor:50%,100% viewportanchor:50%,90%\r\n\r\n"
    "NOTE This file was exported from the caption editor\r\n\r\n"
    "1\r\n00:00:01.209 --> 00:00:03.501 position:50.00%,middle align:middle size:80.00% line:84.67%\r\n"
    "<c.yellow>The lighthouse keeper</c> climbed\r\n   \r\n"
    "2\r\n00:00:03.710 --> 00:00:06.000 position:50.00%,middle align:middle size:80.00% line:84.67%\r\n"
    "<v Mara>the spiral stairs &amp; lit the lamp.</v>\r\n\r\n"
    "NOTE\r\nreviewer: check the name\r\n\r\n"
    "00:07.000 --> 00:09.250 line:0 align:start\r\n"
    "Storm warning for the northern coast.\r\n"
)

YOUTUBE = """WEBVTT
Kind: captions
Language: en

00:00:00.320 --> 00:00:02.350 align:start position:0%
 
welcome<00:00:00.640><c> back</c><00:00:00.960><c> to</c><00:00:01.120><c> the</c><00:00:01.440><c> pottery</c>

00:00:02.350 --> 00:00:02.360 align:start position:0%
welcome back to the pottery
 

00:00:02.360 --> 00:00:05.030 align:start position:0%
welcome back to the pottery
studio<00:00:02.800><c> today</c><00:00:03.200><c> we</c><00:00:03.520><c> glaze</c><00:00:03.900><c> bowls</c>

00:00:05.030 --> 00:00:05.040 align:start position:0%
studio today we glaze bowls
 

00:00:05.040 --> 00:00:07.510 align:start position:0%
studio today we glaze bowls
with<00:00:05.400><c> ash</c><00:00:05.800><c> from</c><00:00:06.100><c> the</c><00:00:06.500><c> kiln</c>
"""

SRT_HAND_EDITED = """1
00:00:01,000 --> 00:00:02,500
The ferry leaves at noon.
2
00:00:02.600 --> 00:00:04.000
Arrows mean direction: north --> south.

3
00:00:04,100 --> 00:00:06,000
Tickets at the kiosk.
"""


def load(path: Path):
    loader, _ = find_loader(path)
    return list(loader.load(path, str(path)))


def test_a_streaming_service_webvtt_with_blocks_settings_and_blank_space_lines(tmp_path: Path) -> None:
    path = tmp_path / "episode.vtt"
    path.write_bytes(STREAMING.encode("utf-8"))
    elements = load(path)
    assert [(e.start, e.end, e.text) for e in elements] == [
        (1.209, 3.501, "The lighthouse keeper climbed"),
        (3.71, 6.0, "the spiral stairs & lit the lamp."),
        (7.0, 9.25, "Storm warning for the northern coast."),
    ]
    assert elements[1].metadata["speaker"] == "Mara"
    assert "load_note" not in elements[0].metadata  # all of it is valid WebVTT: nothing was repaired


def test_youtube_auto_captions_lose_inline_timings_and_rolling_duplicates(tmp_path: Path) -> None:
    path = tmp_path / "pottery.en.vtt"
    path.write_text(YOUTUBE, encoding="utf-8")
    elements = load(path)
    assert [(e.start, e.text) for e in elements] == [
        (0.32, "welcome back to the pottery"),
        (2.36, "studio today we glaze bowls"),
        (5.04, "with ash from the kiln"),
    ]
    assert elements[0].metadata["load_note"] == "read tolerantly: 4 rolling duplicate cue line(s) merged"


def test_hand_edited_srt_with_missing_blank_line_dot_separator_and_arrow_in_text(tmp_path: Path) -> None:
    path = tmp_path / "ferry.srt"
    path.write_text(SRT_HAND_EDITED, encoding="utf-8")
    elements = load(path)
    assert [(e.start, e.end, e.text) for e in elements] == [
        (1.0, 2.5, "The ferry leaves at noon."),
        (2.6, 4.0, "Arrows mean direction: north --> south."),
        (4.1, 6.0, "Tickets at the kiosk."),
    ]
    assert elements[0].metadata["load_note"] == "read tolerantly: 1 cue(s) repaired"


@pytest.mark.parametrize(
    ("name", "text", "encoding"),
    [("unicode.srt", SRT_HAND_EDITED, "utf-16"), ("bare.srt", SRT_HAND_EDITED, "utf-16-le"), ("unicode.vtt", YOUTUBE, "utf-16")],
)
def test_utf16_subtitles_are_decoded(tmp_path: Path, name: str, text: str, encoding: str) -> None:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))  # "utf-16" writes a BOM; "utf-16-le" none
    assert [e.text for e in load(path)][-1] in ("Tickets at the kiosk.", "with ash from the kiln")


def test_an_unreadable_cue_is_skipped_and_counted_while_the_rest_is_read(tmp_path: Path) -> None:
    path = tmp_path / "mixed.srt"
    path.write_text("1\n00:00:01,000 --> 00:0X:02,000\nLost line.\n\n" + SRT_HAND_EDITED.replace("1\n", "9\n", 1))
    elements = load(path)
    assert [e.text for e in elements][0] == "The ferry leaves at noon."
    assert "1 unreadable cue(s) skipped (first: line 2: bad timestamp" in elements[0].metadata["load_note"]


def test_a_file_without_any_valid_cue_still_fails_by_name(tmp_path: Path) -> None:
    path = tmp_path / "broken.vtt"
    path.write_text("WEBVTT\n\n00:00:01.000 --> 00:00:xx.000\nHello.\n\n00:00:05.000 --> 00:00:02.000\nBackwards.\n")
    with pytest.raises(LoaderError, match=r"broken.vtt: malformed WebVTT file: no valid cue \(line 3: bad timestamp"):
        load(path)
