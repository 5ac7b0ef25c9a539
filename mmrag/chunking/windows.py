"""Token windows with overlap, cut at sentence ends where possible.

Written by hand because the libraries that split text (LangChain's and
LlamaIndex's splitters) count characters or their own tokens; we count in the
embedding model's tokenizer so a chunk never silently overflows the model, and
snap window edges to sentence boundaries so a sentence that straddles a window
is whole in at least one chunk.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import Any, Protocol

from mmrag.errors import InvalidArgument

_SENTENCE_END = re.compile(r"""[.!?…][)"'\]»”’]*\s+|\n\s*\n""")


class Tokenizer(Protocol):
    """The part of a Hugging Face fast tokenizer the chunker uses."""

    def __call__(self, text: str, **kwargs: Any) -> Any: ...


@dataclass(frozen=True, slots=True)
class WindowOptions:
    """Window size and overlap in model tokens; transcript windows also stop at
    ``max_seconds`` of speech so a hit points at a findable moment."""

    max_tokens: int = 200
    overlap: int = 40
    max_seconds: float = 90.0

    def __post_init__(self) -> None:
        if not self.max_seconds > 0:
            raise InvalidArgument(f"max_seconds must be > 0, got {self.max_seconds}")
        if self.max_tokens < 8:
            raise InvalidArgument(f"max_tokens must be >= 8, got {self.max_tokens}")
        if not 0 <= self.overlap < self.max_tokens // 2:
            raise InvalidArgument(
                f"overlap must be >= 0 and less than half of max_tokens ({self.max_tokens}), got {self.overlap}"
            )


def sentence_starts(text: str) -> list[int]:
    """Character offsets where a sentence (or paragraph) begins, ascending."""
    return [0] + [m.end() for m in _SENTENCE_END.finditer(text) if m.end() < len(text)]


# Text is handed to the tokenizer in segments of at most this many characters
# (cut at a paragraph, else a space): a 60 MB line is never one tokenizer call
# holding millions of offsets at once.
SEGMENT_CHARS = 100_000


def segments(text: str, size: int = SEGMENT_CHARS) -> list[tuple[int, int]]:
    """Spans of at most ``size`` characters covering ``text``, cut at the last
    paragraph break, else the last whitespace, in each span's second half."""
    spans: list[tuple[int, int]] = []
    a, n = 0, len(text)
    while n - a > size:
        end = a + size
        cut = text.rfind("\n\n", a + size // 2, end - 1)
        if cut >= 0:
            cut += 1  # after both newlines
        else:
            cut = max(text.rfind(" ", a + size // 2, end), text.rfind("\n", a + size // 2, end))
        b = cut + 1 if cut >= 0 else end
        spans.append((a, b))
        a = b
    spans.append((a, n))
    return spans


def token_offsets(text: str, tokenizer: Tokenizer) -> list[tuple[int, int]]:
    """Character spans of ``text``'s tokens, tokenized segment by segment."""
    out: list[tuple[int, int]] = []
    for a, b in segments(text):
        enc = tokenizer(text[a:b], add_special_tokens=False, return_offsets_mapping=True, truncation=False, verbose=False)
        out.extend((a + int(x), a + int(y)) for x, y in enc["offset_mapping"] if y > x)
    return out


def token_windows(text: str, tokenizer: Tokenizer, options: WindowOptions = WindowOptions()) -> list[tuple[int, int]]:
    """Character spans ``(start, end)`` of the windows covering ``text``.

    A window ends at the last sentence end in its second half when there is
    one; the next window starts at the first sentence start inside the overlap
    (or ``overlap`` tokens back when no sentence starts there). Text longer than
    ``SEGMENT_CHARS`` is windowed segment by segment, so memory stays bounded.
    """
    if len(text) > SEGMENT_CHARS:
        return [(a + x, a + y) for a, b in segments(text) for x, y in _token_windows(text[a:b], tokenizer, options)]
    return _token_windows(text, tokenizer, options)


def _token_windows(text: str, tokenizer: Tokenizer, options: WindowOptions) -> list[tuple[int, int]]:
    offsets = token_offsets(text, tokenizer)
    n = len(offsets)
    if n == 0:
        return []
    if n <= options.max_tokens:
        return [(offsets[0][0], offsets[-1][1])]
    starts = sentence_starts(text)
    # token index k "begins a sentence" when its first char is a sentence start
    begins = [False] * n
    for k, (a, _) in enumerate(offsets):
        i = bisect.bisect_right(starts, a) - 1
        begins[k] = i >= 0 and all(c.isspace() for c in text[starts[i] : a])
    spans: list[tuple[int, int]] = []
    i = 0
    while i < n:
        j = min(i + options.max_tokens, n)
        if j < n:
            cut = next((k for k in range(j, i + options.max_tokens // 2, -1) if begins[k]), None)
            j = cut if cut is not None else j
        spans.append((offsets[i][0], offsets[j - 1][1]))
        if j >= n:
            break
        back = max(j - options.overlap, i + 1)
        i = next((k for k in range(back, j) if begins[k]), back) if options.overlap else j
    return spans
