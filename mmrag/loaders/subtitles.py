"""Tolerant SubRip and WebVTT cue parsing, for the files real tools write.

Hand-written because pysrt and webvtt-py (strict) fail a whole file on what
players accept: WebVTT cue settings, whitespace-only lines, YouTube's inline word
timings (``<00:04:46.470><c> word</c>``) and rolling duplicate lines, SubRip
with missing blank lines or ``.`` before the milliseconds. A cue that cannot be
read is skipped and counted, never guessed; a file with no valid cue fails.
"""

from __future__ import annotations

import codecs
import html
import re
from dataclasses import dataclass, field

_TIME = r"(?:(\d+):)?(\d{1,2}):(\d{2})([,.])(\d{1,3})"
_TIMING = re.compile(rf"^\s*{_TIME}\s*-->\s*{_TIME}(?:\s+.*)?$")
_LOOKS_LIKE_TIMING = re.compile(r"^\s*\d+:[\d:.,]*\s*-->")  # a timing line with a typo, not text holding "-->"
_VOICE = re.compile(r"<v(?:\.[\w.-]+)?\s+([^>]+)>")
_TAG = re.compile(r"<[^>]*>|\{\\[^}]*\}")  # HTML-ish tags, inline timestamps, ASS {\an8} overrides
_VTT_BLOCKS = ("NOTE", "STYLE", "REGION")


@dataclass(frozen=True, slots=True)
class Cue:
    """One timed piece of speech: a subtitle cue, a Whisper segment or an ASR packet."""

    start: float
    end: float
    text: str
    speaker: str | None = None


@dataclass
class Parsed:
    """Cues read, how many needed a repair, how many rolling duplicates were
    merged, and the problems of the cues skipped (line number and why)."""

    cues: list[Cue] = field(default_factory=list)
    repaired: int = 0
    merged: int = 0
    problems: list[str] = field(default_factory=list)

    def note(self) -> str | None:
        """One report note for everything read tolerantly, or None when nothing was."""
        parts = []
        if self.repaired:
            parts.append(f"{self.repaired} cue(s) repaired")
        if self.merged:
            parts.append(f"{self.merged} rolling duplicate cue line(s) merged")
        if self.problems:
            parts.append(f"{len(self.problems)} unreadable cue(s) skipped (first: {self.problems[0]})")
        return "read tolerantly: " + "; ".join(parts) if parts else None


def decode_subtitle(data: bytes) -> str | None:
    """Text of a UTF-16/32 subtitle file (with a BOM, or UTF-16 without one, told by
    its NUL bytes); None for a byte-oriented file, which the caller decodes."""
    for bom, name in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
                      (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return data.decode(name)
    head = data[:512]
    if len(head) >= 4 and head[1::2].count(0) > 0.4 * len(head) // 2 and head[0::2].count(0) == 0:
        return data.decode("utf-16-le")
    if len(head) >= 4 and head[0::2].count(0) > 0.4 * len(head) // 2 and head[1::2].count(0) == 0:
        return data.decode("utf-16-be")
    return None


def _seconds(h: str | None, m: str, s: str, ms: str) -> float:
    return int(h or 0) * 3600 + int(m) * 60 + int(s) + float("0." + ms)


def _lines(text: str) -> list[str]:
    """Lines without a BOM or line-end characters; whitespace-only lines are blank."""
    return [("" if not line.strip() else line.rstrip()) for line in text.lstrip("\ufeff").splitlines()]


def _clean(lines: list[str]) -> tuple[str, str | None]:
    """Cue text without markup, entities decoded, and its ``<v>`` speaker."""
    joined = "\n".join(lines)
    voice = _VOICE.search(joined)
    out = [html.unescape(_TAG.sub("", line)).strip() for line in lines]
    return "\n".join(line for line in out if line), (voice.group(1).strip() if voice else None)


def parse(text: str, *, webvtt: bool) -> Parsed:
    """Cues of a SubRip (``webvtt=False``) or WebVTT file, read line by line so a
    missing blank line never swallows the next cue."""
    lines = _lines(text)
    result = Parsed()
    i = 1 if webvtt and lines and lines[0].startswith("WEBVTT") else 0
    pending: tuple[int, float, float, bool] | None = None  # line, start, end, repaired
    body: list[str] = []
    previous: list[str] = []

    def flush() -> None:
        nonlocal previous
        if pending is None:
            return
        number, start, end, repaired = pending
        kept = list(body)
        while kept and not kept[-1]:
            kept.pop()
        text_lines = [line for line in kept if line]
        if end < start:
            result.problems.append(f"line {number}: ends before it starts")
            return
        cleaned = [_clean([line])[0] for line in text_lines]
        if webvtt:  # YouTube rolls the last line into the next cue: keep only what is new
            overlap = _overlap(previous, cleaned)
            result.merged += overlap
            new_lines = text_lines[overlap:]
            previous = [c for c in cleaned if c] or previous
            text_lines = new_lines
        cue_text, speaker = _clean(text_lines)
        if cue_text:
            result.cues.append(Cue(start, end, cue_text, speaker))
            result.repaired += repaired

    while i < len(lines):
        line = lines[i]
        starts_block = i == 0 or not lines[i - 1]
        if webvtt and starts_block and line.split(" ", 1)[0].split("\t", 1)[0] in _VTT_BLOCKS:
            flush()
            pending, body = None, []
            while i < len(lines) and lines[i]:
                i += 1
            continue
        match = _TIMING.match(line)
        if match:
            repaired = False
            if body and _is_index(body, webvtt):
                if len(body) >= 2 and body[-2]:  # the index came straight after text: no blank line
                    repaired = True
                body.pop()
            flush()
            g = match.groups()
            if not webvtt and (g[3] == "." or g[8] == "." or g[0] is None or g[5] is None):
                repaired = True
            pending = (i + 1, _seconds(g[0], g[1], g[2], g[4]), _seconds(g[5], g[6], g[7], g[9]), repaired)
            body = []
        elif "-->" in line and _LOOKS_LIKE_TIMING.match(line):
            if body and _is_index(body, webvtt):
                body.pop()
            flush()
            result.problems.append(f"line {i + 1}: bad timestamp {line.strip()!r}")
            pending, body = None, []
        else:
            body.append(line)
        i += 1
    flush()
    return result


def _is_index(body: list[str], webvtt: bool) -> bool:
    """Whether the last line before a timing line is the cue's number (SubRip) or
    identifier (WebVTT: any line that starts its block)."""
    last = body[-1]
    if not last:
        return False
    if webvtt:
        return len(body) == 1 or not body[-2]
    return last.strip().isdigit()


def _overlap(previous: list[str], current: list[str]) -> int:
    """How many leading lines of ``current`` repeat the last lines of ``previous``."""
    for n in range(min(len(previous), len(current)), 0, -1):
        if previous[-n:] == current[:n]:
            return n
    return 0
