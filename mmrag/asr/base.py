"""Speech recognition behind one small interface: the base class cuts the 16 kHz
stream into overlapping windows, batches them and stitches the segments back
on one timeline; a backend implements only ``_transcribe_batch``.

Stitching is written here because a window's segments are timed from its own
start: each window owns the middle of its overlap with the next one, and a
segment is kept by the window that owns its midpoint, so speech in an overlap
is kept once, from the window that heard it with the most context.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from mmrag.errors import InvalidArgument

SAMPLE_RATE = 16_000


@dataclass(frozen=True, slots=True)
class AsrSpec:
    """What a collection records about its ASR model (like an ``EmbedderSpec``)."""

    model_name: str
    language: str | None = None  # None: detected per window

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, raw: str) -> AsrSpec:
        return cls(**json.loads(raw))

    def describe(self) -> str:
        return f"{self.model_name} (language {self.language or 'auto'})"


def check_asr(collection: str, stored: AsrSpec | None, wanted: AsrSpec | None) -> None:
    """Raise ``ModelMismatchError`` when a run would transcribe speech differently
    from the collection's earlier runs (its audio and video would then hold text
    from two models). A collection that recorded none takes any."""
    from mmrag.errors import ModelMismatchError

    if stored is None or stored == wanted:
        return
    uses = f"uses {wanted.describe()}" if wanted else "has no ASR model"
    raise ModelMismatchError(
        f"collection '{collection}' transcribed its speech with {stored.describe()}, but this run {uses}; "
        f"pass --asr-model {stored.model_name} (asr_model=...) to keep it, or --retranscribe "
        "(retranscribe=True) to read the audio and video under these paths again with this run's model"
    )


@dataclass(frozen=True, slots=True)
class Segment:
    """Recognised speech, in seconds from the start of the audio."""

    start: float
    end: float
    text: str


@dataclass(frozen=True, slots=True)
class Window:
    offset: float  # seconds
    samples: np.ndarray


def windows(blocks: Iterable[np.ndarray], seconds: float = 30.0, overlap: float = 5.0) -> Iterator[Window]:
    """Overlapping windows over a stream of sample blocks; memory holds one window."""
    if not 0 <= overlap < seconds:
        raise InvalidArgument(f"need 0 <= overlap < window seconds, got {overlap} and {seconds}")
    size, hop = int(seconds * SAMPLE_RATE), int((seconds - overlap) * SAMPLE_RATE)
    buffer = np.zeros(0, np.float32)
    offset = 0
    for block in blocks:
        buffer = np.concatenate([buffer, block.astype(np.float32, copy=False)])
        while buffer.size >= size:
            yield Window(offset / SAMPLE_RATE, buffer[:size])
            buffer, offset = buffer[hop:], offset + hop
    if buffer.size > (size - hop if offset else 0):  # what the last full window did not already cover
        yield Window(offset / SAMPLE_RATE, buffer)


def stitch(window: Window, segments: Sequence[Segment], overlap: float, first: bool, last: bool) -> list[Segment]:
    """``segments`` (timed from the window's start) on the audio's timeline, keeping
    those whose midpoint lies in the part of the window it owns."""
    duration = window.samples.size / SAMPLE_RATE
    lo = 0.0 if first else overlap / 2
    hi = duration if last else duration - overlap / 2
    kept = []
    for s in segments:
        if s.start >= duration:  # Whisper pads a short window to 30 s: nothing was said past its end
            continue
        start, end = max(0.0, s.start), min(duration, max(s.end, s.start))
        if lo <= (start + end) / 2 < hi or (last and (start + end) / 2 >= hi):
            kept.append(Segment(round(window.offset + start, 3), round(window.offset + end, 3), s.text.strip()))
    return [s for s in kept if s.text]


class Transcriber(ABC):
    """Speech to timed segments. ``window``/``overlap`` in seconds, ``batch_size`` windows per call."""

    window: float = 30.0
    overlap: float = 5.0
    batch_size: int = 8

    @abstractmethod
    def spec(self) -> AsrSpec:
        """What the collection records."""

    @abstractmethod
    def _transcribe_batch(self, audio: list[np.ndarray]) -> list[list[Segment]]:
        """Segments per window, timed from each window's start."""

    def transcribe(self, blocks: Iterable[np.ndarray]) -> Iterator[Segment]:
        """Segments of a 16 kHz mono stream, in order, on one timeline."""
        if self.batch_size < 1:
            raise InvalidArgument(f"batch_size must be >= 1, got {self.batch_size}")
        stream = windows(blocks, self.window, self.overlap)
        batch: list[Window] = []
        first = True
        nxt = next(stream, None)
        while nxt is not None:
            batch.append(nxt)
            nxt = next(stream, None)
            if len(batch) == self.batch_size or nxt is None:
                results = self._transcribe_batch([w.samples for w in batch])
                for i, (w, segs) in enumerate(zip(batch, results)):
                    yield from stitch(w, segs, self.overlap, first, nxt is None and i == len(batch) - 1)
                    first = False
                batch = []


@dataclass(kw_only=True)
class ModelTranscriber(Transcriber):
    """The options the Whisper backends share, and their model loaded once, on
    first use (``_open``). Keyword-only: a backend's first field, the model, is
    its only positional one."""

    language: str | None = None  # None: detected per window
    batch_size: int = 8
    window: float = 30.0
    overlap: float = 5.0
    max_new_tokens: int = 440
    _loaded: Any = field(default=None, init=False, repr=False)

    @abstractmethod
    def _open(self) -> Any:
        """Load the model (and what decodes with it)."""

    def _load(self) -> Any:
        if self._loaded is None:
            self._loaded = self._open()
        return self._loaded
