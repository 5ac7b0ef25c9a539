"""Plain text and Markdown; Markdown headings become the title path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from markdown_it import MarkdownIt

from mmrag.errors import LoaderError
from mmrag.loaders.base import TextFormatLoader
from mmrag.loaders.decoding import read_bounded
from mmrag.types import Element, Modality


# A text file (plain, Markdown, transcript) over this size is refused before it is
# read: the largest real ones (a book, a day of captions) are a few MB, and the
# text is held whole while it is parsed.
MAX_TEXT_BYTES = 64 * 1024 * 1024
# Control characters (other than tab, newline, CR, form feed) in more than this
# share of the first 64 KiB mean the bytes are not text (random or binary data).
_MAX_CONTROL_SHARE = 0.02


def read_text_bytes(path: Path, max_bytes: int = MAX_TEXT_BYTES) -> bytes:
    """The bytes of a text file, refused when over ``max_bytes`` (read bounded,
    whatever the size on disk says)."""
    return read_bounded(
        path, max_bytes, lambda size: f"text file too large: {size / 2**20:,.1f} MB is over the limit of "
        f"{max_bytes / 2**20:,.0f} MB (mmrag.loaders.text.MAX_TEXT_BYTES)",
    )


def read_text(path: Path, max_bytes: int = MAX_TEXT_BYTES) -> tuple[str, str | None]:
    """The file's text and, if it was not UTF-8, a note saying which fallback decoded it.

    Refuses files over ``max_bytes``, with NUL bytes anywhere, or that are mostly
    control characters."""
    return decode_text(path, read_text_bytes(path, max_bytes))


def decode_text(path: Path, data: bytes) -> tuple[str, str | None]:
    """``read_text`` for bytes already read (``path`` names the file in errors)."""
    nul = data.find(b"\x00")
    if nul >= 0:
        raise LoaderError(path, f"binary content (a NUL byte at offset {nul:,}) in a text file")
    head = data[: 64 * 1024]
    controls = sum(head.count(bytes([c])) for c in range(32) if c not in (9, 10, 12, 13)) + head.count(b"\x7f")
    if head and controls > _MAX_CONTROL_SHARE * len(head):
        raise LoaderError(path, f"binary content: {controls:,} control bytes in the first {len(head):,} bytes of a text file")
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        # cp1252 decodes common Western text; latin-1 never fails, so nothing is lost.
        for encoding in ("cp1252", "latin-1"):
            try:
                return data.decode(encoding), f"not valid UTF-8 ({exc.reason} at byte {exc.start}); decoded as {encoding}"
            except UnicodeDecodeError:
                continue
    raise AssertionError("latin-1 decodes any bytes")


class TextLoader(TextFormatLoader):
    """One element per paragraph group of a plain-text file."""

    name = "text"
    extensions = frozenset({".txt", ".text"})

    def load(self, path: Path, source: str) -> Iterator[Element]:
        text, note = read_text(path)
        if text.strip():
            meta = {"decode_note": note} if note else {}
            yield Element(source=source, modality=Modality.TEXT, text=text.strip(), metadata=meta)


class MarkdownLoader(TextFormatLoader):
    """One element per section; the heading chain is the element's title path."""

    name = "markdown"
    extensions = frozenset({".md", ".markdown"})

    def load(self, path: Path, source: str) -> Iterator[Element]:
        text, note = read_text(path)
        meta = {"decode_note": note} if note else {}
        lines = text.splitlines()
        for title_path, start, end in _sections(text):
            body = "\n".join(lines[start:end]).strip()
            if body:
                yield Element(source=source, modality=Modality.TEXT, text=body, title_path=title_path, metadata=meta)


def _sections(text: str) -> Iterator[tuple[tuple[str, ...], int, int]]:
    """(heading chain, first body line, end line) for each section, using a real
    Markdown parser so headings inside code fences are not taken for headings."""
    tokens = MarkdownIt("commonmark").parse(text)
    headings: list[tuple[int, str, int, int]] = []  # level, title, heading line, line after
    for i, tok in enumerate(tokens):
        if tok.type == "heading_open" and tok.map:
            headings.append((int(tok.tag[1]), tokens[i + 1].content.strip(), tok.map[0], tok.map[1]))
    n_lines = len(text.splitlines())
    first = headings[0][2] if headings else n_lines
    yield (), 0, first
    chain: list[tuple[int, str]] = []
    for k, (level, title, _, body_start) in enumerate(headings):
        chain = [(lv, t) for lv, t in chain if lv < level] + [(level, title)]
        end = headings[k + 1][2] if k + 1 < len(headings) else n_lines
        yield tuple(t for _, t in chain), body_start, end
