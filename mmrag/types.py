"""Typed records that flow through mmrag: Element -> Chunk -> Hit.

Every record says where its content came from (page, slide or time span), and
is validated when it is built, so a bad location fails at the loader that made
it rather than as a wrong search hit later.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from enum import Enum
from types import MappingProxyType
from typing import Any

from mmrag.errors import InvalidArgument


class ChoiceEnum(str, Enum):
    """A string Enum whose ``parse`` names the valid values when one is unknown.

    Subclasses set ``__noun__`` (what the value is, for the error message)."""

    __noun__ = "value"

    @classmethod
    def parse(cls, value: str | ChoiceEnum) -> Any:
        """The member for ``value``; an unknown value raises listing the valid ones."""
        try:
            return cls(value)
        except ValueError:
            valid = ", ".join(m.value for m in cls)
            raise InvalidArgument(f"unknown {cls.__noun__} {value!r}; valid: {valid}") from None


class Modality(ChoiceEnum):
    """What a chunk holds; decides which embedder sees it."""

    __noun__ = "modality"

    TEXT = "text"
    IMAGE = "image"
    PAGE_IMAGE = "page_image"


class ImageKind(str, Enum):
    """How to find an image again without keeping its bytes."""

    FILE = "file"  # the source file is the image
    PAGE_RENDER = "page_render"  # a rendered PDF page
    EMBEDDED = "embedded"  # the n-th picture on a PDF page or slide
    VIDEO_FRAME = "video_frame"  # the frame of a video shown at ``time`` seconds


def _check_location(
    page: int | None, slide: int | None, start: float | None, end: float | None
) -> None:
    if page is not None and page < 1:
        raise InvalidArgument(f"page is 1-based, got {page}")
    if slide is not None and slide < 1:
        raise InvalidArgument(f"slide is 1-based, got {slide}")
    if (start is None) != (end is None):
        raise InvalidArgument("start and end come together or not at all")
    if start is not None and end is not None:
        if start < 0:
            raise InvalidArgument(f"start must be >= 0 seconds, got {start}")
        if end < start:
            raise InvalidArgument(f"end ({end}) must not be before start ({start})")


@dataclass(frozen=True, slots=True)
class ImageRef:
    """A pointer to an image inside a source file: enough to load it again later."""

    source: str
    kind: ImageKind
    page: int | None = None
    slide: int | None = None
    index: int | None = None
    time: float | None = None  # seconds into a video

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", ImageKind(self.kind))
        if self.kind is ImageKind.VIDEO_FRAME and (self.time is None or self.time < 0):
            raise InvalidArgument("a video frame needs its time in seconds (>= 0)")
        _check_location(self.page, self.slide, None, None)
        if self.kind is ImageKind.PAGE_RENDER and self.page is None:
            raise InvalidArgument("a page render needs its page number")
        if self.kind is ImageKind.EMBEDDED and self.index is None:
            raise InvalidArgument("an embedded image needs its index on the page or slide")

    def to_dict(self) -> dict[str, Any]:
        data = {**asdict(self), "kind": self.kind.value}
        if self.time is None:
            del data["time"]  # refs made before videos were read keep their dict, and so their chunk ids
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ImageRef:
        return cls(**data)


def _check_rows(row_start: int | None, row_end: int | None) -> None:
    if (row_start is None) != (row_end is None):
        raise InvalidArgument("row_start and row_end come together or not at all")
    if row_start is not None and row_end is not None:
        if row_start < 1:
            raise InvalidArgument(f"rows are 1-based, got row_start {row_start}")
        if row_end < row_start:
            raise InvalidArgument(f"row_end ({row_end}) must not be before row_start ({row_start})")


def _frozen_metadata(metadata: Mapping[str, Any]) -> Mapping[str, Any]:
    try:
        json.dumps(dict(metadata))
    except TypeError as exc:
        raise InvalidArgument(f"metadata must be JSON-serialisable: {exc}") from None
    return MappingProxyType(dict(metadata))


# A heading or bookmark title is kept to this many characters (the rest cut, with
# an ellipsis): a 100 KB heading filled the store's 65,535-byte text field through
# the context header, so its chunk's own words could not be found by keyword.
MAX_HEADING_CHARS = 200


def cut_heading(title: str, limit: int = MAX_HEADING_CHARS) -> str:
    return title if len(title) <= limit else title[: limit - 1].rstrip() + "\u2026"


@dataclass(frozen=True, slots=True)
class Element:
    """One piece a loader found in a source: a text block, an image, a page render
    or a transcript segment, with where it sits."""

    source: str
    modality: Modality
    text: str = ""
    image: ImageRef | None = None
    page: int | None = None
    slide: int | None = None
    start: float | None = None
    end: float | None = None
    bbox: tuple[float, float, float, float] | None = None
    title_path: tuple[str, ...] = ()
    metadata: Mapping[str, Any] = field(default_factory=dict)
    sheet: str | None = None
    row_start: int | None = None
    row_end: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "modality", Modality.parse(self.modality))
        object.__setattr__(self, "title_path", tuple(cut_heading(t) for t in self.title_path))
        object.__setattr__(self, "metadata", _frozen_metadata(self.metadata))
        _check_location(self.page, self.slide, self.start, self.end)
        _check_rows(self.row_start, self.row_end)
        if self.sheet is not None and not self.sheet.strip():
            raise InvalidArgument(f"{self.source}: a sheet name must not be blank")
        if self.modality is Modality.TEXT and not self.text.strip():
            raise InvalidArgument(f"{self.source}: a text element needs non-blank text")
        if self.modality is not Modality.TEXT and self.image is None:
            raise InvalidArgument(f"{self.source}: a {self.modality.value} element needs an image")
        if self.bbox is not None and len(self.bbox) != 4:
            raise InvalidArgument("bbox is (x0, y0, x1, y1)")


def stable_id(*parts: object) -> str:
    """A short, deterministic id from its parts (the same inputs give the same id
    in every run and on every machine)."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode("utf-8"))
    return digest.hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Chunk:
    """What is embedded and stored: content plus the context it sat in.

    ``context`` is the header (document > section/slide > page) that is embedded
    with the text and stored apart from it so a UI can show it. The locations of
    tables, spreadsheets and mail (``sheet``, ``row_start``/``row_end``,
    ``heading``, ``attachment``) live in ``metadata`` under those keys, so every
    store keeps and filters them without a schema field; the properties read them.
    """

    id: str
    doc_id: str
    source: str
    modality: Modality
    text: str
    context: str = ""
    image: ImageRef | None = None
    page: int | None = None
    slide: int | None = None
    start: float | None = None
    end: float | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "modality", Modality.parse(self.modality))
        object.__setattr__(self, "metadata", _frozen_metadata(self.metadata))
        _check_location(self.page, self.slide, self.start, self.end)
        _check_rows(self.metadata.get("row_start"), self.metadata.get("row_end"))
        if not self.id or not self.doc_id:
            raise InvalidArgument("a chunk needs an id and a doc_id")
        if self.modality is not Modality.TEXT and self.image is None:
            raise InvalidArgument(f"{self.source}: a {self.modality.value} chunk needs an image")

    def __reduce__(self) -> tuple:
        """Picklable, for worker processes: the frozen metadata travels as a plain dict."""
        return (Chunk, tuple(dict(self.metadata) if f.name == "metadata" else getattr(self, f.name) for f in fields(self)))

    @property
    def sheet(self) -> str | None:
        """The spreadsheet sheet the chunk comes from."""
        return self.metadata.get("sheet")

    @property
    def row_start(self) -> int | None:
        """First (1-based, as the sheet numbers it) row the chunk covers."""
        return self.metadata.get("row_start")

    @property
    def row_end(self) -> int | None:
        """Last row the chunk covers (inclusive)."""
        return self.metadata.get("row_end")

    @property
    def heading(self) -> str | None:
        """The heading path (``Part > Section``) the chunk sits under, if any."""
        heading = self.metadata.get("heading")
        if heading:
            return str(heading)
        path = self.metadata.get("title_path") or []
        return " > ".join(str(p) for p in path) or None

    @property
    def attachment(self) -> str | None:
        """The attachment name when the chunk comes from a file attached to a mail."""
        return self.metadata.get("attachment")

    @property
    def embed_text(self) -> str:
        """The text a text embedder and BM25 see: the context header, then the text."""
        return f"{self.context}\n{self.text}" if self.context else self.text


@dataclass(frozen=True, slots=True)
class Hit:
    """A chunk found by a search, with the score that ranked it.

    ``scores`` keeps each stage's score (``dense``, ``bm25``, ``first_stage``,
    ``rerank``...) so callers can see why a hit ranked where it did.
    """

    chunk: Chunk
    score: float
    scores: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "scores", MappingProxyType(dict(self.scores)))

    def to_dict(self) -> dict[str, Any]:
        """The search JSON contract: these keys are never renamed (new ones are
        added); absent ones are None."""
        c = self.chunk
        return {
            "chunk_id": c.id,
            "doc_id": c.doc_id,
            "source": c.source,
            "modality": c.modality.value,
            "page": c.page,
            "slide": c.slide,
            "start": c.start,
            "end": c.end,
            "sheet": c.sheet,
            "row_start": c.row_start,
            "row_end": c.row_end,
            "heading": c.heading,
            "attachment": c.attachment,
            "score": self.score,
            "scores": dict(self.scores),
            "text": c.text,
            "context": c.context,
            "image": c.image.to_dict() if c.image else None,
            "metadata": dict(c.metadata),
        }
