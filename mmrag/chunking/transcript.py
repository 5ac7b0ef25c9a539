"""Transcript windows: cues joined into one text, packed into windows of whole
sentences (by tokens and by seconds), overlapping by whole sentences.

Written by hand because subtitle libraries stop at cues, and generic splitters
know nothing of time: here every window maps back to the cues it covers, so
its start/end seconds and speakers are exact, and a sentence split across cues
stays whole because sentences, not cues, are the unit.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from mmrag.chunking.windows import Tokenizer, WindowOptions, sentence_starts, token_offsets, token_windows
from mmrag.types import Element


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """A window of a transcript: its text and where it sits in time."""

    text: str
    start: float
    end: float
    speakers: tuple[str, ...]
    first_cue: int  # 0-based, inclusive
    last_cue: int


@dataclass(frozen=True, slots=True)
class _Unit:
    a: int  # char span in the joined text
    b: int
    tokens: int


def join_cues(cues: list[Element]) -> tuple[str, list[int]]:
    """The transcript as one text ("Speaker: " marked where the speaker changes)
    and the char offset where each cue starts."""
    parts: list[str] = []
    starts: list[int] = []
    pos = 0
    previous = None
    for cue in cues:
        speaker = cue.metadata.get("speaker")
        piece = f"{speaker}: {cue.text}" if speaker and speaker != previous else cue.text
        previous = speaker
        if parts:
            parts.append(" ")
            pos += 1
        starts.append(pos)
        parts.append(piece)
        pos += len(piece)
    return "".join(parts), starts


def transcript_windows(cues: list[Element], tokenizer: Tokenizer, options: WindowOptions) -> list[TimeWindow]:
    """Windows over timed text elements, in order (see the module docstring)."""
    text, cue_starts = join_cues(cues)
    offsets = token_offsets(text, tokenizer)
    token_starts = [a for a, _ in offsets]

    def n_tokens(a: int, b: int) -> int:
        return bisect.bisect_left(token_starts, b) - bisect.bisect_left(token_starts, a)

    def cue_at(char: int) -> int:
        return bisect.bisect_right(cue_starts, char) - 1

    bounds = sentence_starts(text) + [len(text)]
    units: list[_Unit] = []
    for a, b in zip(bounds, bounds[1:]):
        b = a + len(text[a:b].rstrip())
        if b <= a:
            continue
        count = n_tokens(a, b)
        if count <= options.max_tokens:
            units.append(_Unit(a, b, count))
        else:  # a run-on "sentence" (captions without punctuation): token windows inside it
            for x, y in token_windows(text[a:b], tokenizer, WindowOptions(options.max_tokens, 0)):
                units.append(_Unit(a + x, a + y, n_tokens(a + x, a + y)))

    def start_of(u: _Unit) -> float:
        return float(cues[cue_at(u.a)].start or 0.0)

    def end_of(u: _Unit) -> float:
        return float(cues[cue_at(u.b - 1)].end or 0.0)

    windows: list[TimeWindow] = []
    i = 0
    while i < len(units):
        j, tokens = i, units[i].tokens
        while (
            j + 1 < len(units)
            and tokens + units[j + 1].tokens <= options.max_tokens
            and end_of(units[j + 1]) - start_of(units[i]) <= options.max_seconds
        ):
            j += 1
            tokens += units[j].tokens
        first, last = cue_at(units[i].a), cue_at(units[j].b - 1)
        speakers: list[str] = []
        for cue in cues[first : last + 1]:
            s = cue.metadata.get("speaker")
            if s and s not in speakers:
                speakers.append(str(s))
        body = text[units[i].a : units[j].b]
        opener = cues[first].metadata.get("speaker")
        if opener and not body.startswith(f"{opener}: "):  # a window starting mid-turn still says who speaks
            body = f"{opener}: {body}"
        windows.append(
            TimeWindow(
                text=body,
                start=min(float(c.start or 0.0) for c in cues[first : last + 1]),
                end=max(float(c.end or 0.0) for c in cues[first : last + 1]),
                speakers=tuple(speakers),
                first_cue=first,
                last_cue=last,
            )
        )
        if j + 1 >= len(units):
            break
        # overlap: the trailing whole sentences that fit in `overlap` tokens, and at
        # least the last one (so a moment is never only at a window's edge), always
        # moving forward
        k, back = j + 1, 0
        while k - 1 > i and (k == j + 1 or back + units[k - 1].tokens <= options.overlap):
            k -= 1
            back += units[k].tokens
        i = k if options.overlap else j + 1
    return windows
