"""What a loader is: it declares what it handles and lazily yields Elements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from mmrag.types import Element

SNIFF_BYTES = 8192


@dataclass(frozen=True, slots=True)
class Decoded:
    """A loader's estimate of what a file decodes to: bytes, and how it was worked out (for the refusal)."""

    bytes: int
    what: str


class Loader(ABC):
    """Reads one kind of file into Elements.

    ``signatures`` are magic-byte prefixes that identify the format whatever the
    file is called; ``extensions`` are used where a format has no signature
    (plain text, Markdown). ``load`` is a generator, so a 1,000-page PDF is
    streamed page by page.
    """

    name: str
    extensions: frozenset[str] = frozenset()
    signatures: tuple[bytes, ...] = ()

    def sniff(self, head: bytes, path: Path) -> bool:
        """True when ``head`` (the file's first bytes) is this loader's format."""
        return any(head.startswith(sig) for sig in self.signatures)

    def declines(self, path: Path) -> None:
        """Raise ``UnsupportedFileError`` when this loader would skip ``path``
        before reading it (a video's sidecar subtitles). A run and ``--dry-run``
        both ask, so a plan lists the file as the run reports it."""

    def decoded_size(self, path: Path) -> Decoded | None:
        """What reading ``path`` would decode, estimated from its header before
        anything is decoded (media), for the run's budget; None: its size on disk says it."""
        return None

    @abstractmethod
    def load(self, path: Path, source: str) -> Iterator[Element]:
        """Yield the file's elements; ``source`` is the path as the user gave it.

        Raises ``LoaderError`` naming the file and the problem.
        """


class TextFormatLoader(Loader):
    """A text format without magic bytes (plain text, Markdown, mail, JSON): told
    by its extension, and not this format when its head holds a NUL byte (binary
    data under a text name)."""

    def sniff(self, head: bytes, path: Path) -> bool:
        return path.suffix.lower() in self.extensions and b"\x00" not in head
