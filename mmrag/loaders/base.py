"""What a loader is: it declares what it handles and lazily yields Elements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path

from mmrag.types import Element

SNIFF_BYTES = 8192


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
