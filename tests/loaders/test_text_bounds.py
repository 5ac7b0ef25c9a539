"""Text is read bounded: oversized files refused with their size, binary bytes
refused wherever they sit, long lines tokenized in segments."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from mmrag.chunking.windows import SEGMENT_CHARS, WindowOptions, segments, token_windows
from mmrag.errors import LoaderError
from mmrag.loaders import EmlLoader, HtmlLoader, MarkdownLoader, MsgLoader, SrtLoader, TextLoader
from mmrag.loaders.attachments import OLE_MAGIC
from mmrag.loaders.text import read_text
from tests.hostile_files import write_long_line

MiB = 1024 * 1024


def sparse(path: Path, head: bytes, size: int) -> Path:
    """A file of ``size`` bytes that takes no disk: ``head``, then a hole."""
    with path.open("wb") as fh:
        fh.write(head)
        fh.truncate(size)
    return path


def test_text_files_over_the_limit_are_refused_with_their_size_before_reading(tmp_path: Path) -> None:
    """The 200 MB single line and the 100 MB cue: refused by size, nothing read."""
    line = sparse(tmp_path / "line.txt", b"lorem ipsum ", 200 * MiB)
    with pytest.raises(LoaderError, match=r"text file too large: 200.0 MB is over the limit of 64 MB \(mmrag.loaders.text.MAX_TEXT_BYTES\)"):
        list(TextLoader().load(line, str(line)))
    cue = sparse(tmp_path / "cue.srt", b"1\n00:00:01,000 --> 00:00:05,000\nspeech ", 100 * MiB)
    with pytest.raises(LoaderError, match=r"100.0 MB is over the limit of 64 MB"):
        list(SrtLoader().load(cue, str(cue)))
    wide = sparse(tmp_path / "wide.srt", codecs.BOM_UTF16_LE + "1\n00:00:01,000 --> ".encode("utf-16-le"), 100 * MiB)
    with pytest.raises(LoaderError, match=r"wide.srt: text file too large: 100.0 MB is over the limit of 64 MB"):
        list(SrtLoader().load(wide, str(wide)))  # UTF-16 subtitles too: refused before they are read
    small = write_long_line(tmp_path / "small.txt", 2 * MiB)
    with pytest.raises(LoaderError, match=r"2.0 MB is over the limit of 1 MB"):
        read_text(small, max_bytes=1 * MiB)
    assert len(read_text(small, max_bytes=3 * MiB)[0]) == 2 * MiB


@pytest.mark.parametrize(
    ("name", "loader", "head", "size", "problem"),
    [
        ("big.eml", EmlLoader, b"From: a@example.org\n", 300 * MiB, "mail of 314572800 bytes is over the 268435456 read (mmrag.loaders.mail.MAX_MAIL_BYTES)"),
        ("big.msg", MsgLoader, OLE_MAGIC, 300 * MiB, "message of 314572800 bytes is over the 268435456 read (mmrag.loaders.mail.MAX_MAIL_BYTES)"),
        ("big.html", HtmlLoader, b"<!doctype html><p>", 70 * MiB, "web page of 73,400,320 bytes is over the limit of 67,108,864"),
    ],
)
def test_mail_and_web_pages_over_their_cap_are_refused_before_reading(tmp_path: Path, name, loader, head, size, problem) -> None:
    path = sparse(tmp_path / name, head, size)
    with pytest.raises(LoaderError) as caught:
        list(loader().load(path, str(path)))
    assert str(caught.value) == f"{path}: {problem}"


def test_binary_bytes_anywhere_are_refused(tmp_path: Path) -> None:
    late_nul = tmp_path / "late.md"
    late_nul.write_bytes(b"# Title\n\n" + b"plain words " * 2000 + b"\x00tail")
    with pytest.raises(LoaderError, match=r"binary content \(a NUL byte at offset 24,009\)"):
        list(MarkdownLoader().load(late_nul, str(late_nul)))
    noise = tmp_path / "noise.md"
    noise.write_bytes(bytes((i * 7919 + 13) % 255 + 1 for i in range(20_000)))  # no NUL, mostly not text
    with pytest.raises(LoaderError, match=r"binary content: [\d,]+ control bytes in the first 20,000 bytes"):
        list(MarkdownLoader().load(noise, str(noise)))
    ansi = tmp_path / "log.txt"
    ansi.write_text("build ok\tstep 1\r\n\fpage two\n" * 100)
    assert list(TextLoader().load(ansi, str(ansi)))


def test_segments_cut_at_paragraphs_or_spaces_and_cover_the_text() -> None:
    text = ("word " * 30_000) + "\n\n" + ("x" * 250_000)
    spans = segments(text)
    assert spans[0][0] == 0 and spans[-1][1] == len(text)
    assert all(b - a <= SEGMENT_CHARS for a, b in spans)
    assert all(prev[1] == nxt[0] for prev, nxt in zip(spans, spans[1:]))
    assert text[spans[0][1] - 1] == " "  # cut after a space, not inside a word
    assert text[: spans[1][1]].endswith("\n\n")  # the paragraph break is preferred


def test_a_long_single_line_is_never_one_tokenizer_call(text_embedder) -> None:
    tokenizer = text_embedder.tokenizer
    seen: list[int] = []

    def recording(text: str, **kwargs):
        seen.append(len(text))
        return tokenizer(text, **kwargs)

    text = "the quick brown fox jumps over the lazy dog " * 6_000  # 264k characters, one line
    spans = token_windows(text, recording, WindowOptions(max_tokens=200, overlap=0))
    assert max(seen) <= SEGMENT_CHARS and len(seen) >= 3
    assert spans[0][0] == 0 and spans[-1][1] == len(text.rstrip())
    assert all(len(tokenizer(text[a:b], add_special_tokens=False)["input_ids"]) <= 200 for a, b in spans[:: len(spans) // 20])
