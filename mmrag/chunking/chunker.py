"""Elements to Chunks: group by container (page, slide, section), window, add context.

Chunking (where the boundaries go) and contextualising (what header is embedded
with a chunk) are separate steps, so each can change without the other.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path

from mmrag.chunking.windows import Tokenizer, WindowOptions, token_windows
from mmrag.types import Chunk, Element, Modality, stable_id

Boundary = Callable[[Element], object]


def container_key(element: Element) -> object:
    """Text is never merged across a page, a slide or a section."""
    return (element.page, element.slide, element.title_path)


def contextualize(document_title: str, title_path: tuple[str, ...], page: int | None, slide: int | None) -> str:
    """The header embedded with a chunk: document > sections > page/slide."""
    parts = [document_title, *title_path]
    if slide is not None:
        parts.append(f"slide {slide}")
    if page is not None:
        parts.append(f"page {page}")
    return " > ".join(p for p in parts if p)


@dataclass
class Chunker:
    """Turns one source's elements into chunks with stable ids.

    Example::

        chunker = Chunker(embedder.tokenizer, WindowOptions(max_tokens=200, overlap=40))
        chunks = list(chunker.chunk(doc_id, elements))
    """

    tokenizer: Tokenizer
    options: WindowOptions = WindowOptions()
    boundary: Boundary = container_key

    def chunk(self, doc_id: str, elements: Iterable[Element]) -> Iterator[Chunk]:
        for _, group in groupby(elements, key=self.boundary):
            yield from self._chunk_group(doc_id, list(group))

    def _chunk_group(self, doc_id: str, group: list[Element]) -> Iterator[Chunk]:
        first = group[0]
        title = str(first.metadata.get("document_title") or Path(first.source).name)
        context = contextualize(title, first.title_path, first.page, first.slide)
        texts = [e for e in group if e.modality is Modality.TEXT]
        if texts:
            body = "\n\n".join(e.text for e in texts)
            for ordinal, (a, b) in enumerate(token_windows(body, self.tokenizer, self.options)):
                text = body[a:b]
                yield Chunk(
                    id=stable_id(doc_id, Modality.TEXT.value, first.page, first.slide, first.title_path, ordinal, text),
                    doc_id=doc_id,
                    source=first.source,
                    modality=Modality.TEXT,
                    text=text,
                    context=context,
                    page=first.page,
                    slide=first.slide,
                    metadata={"title_path": list(first.title_path), **_merged_metadata(texts)},
                )
        for element in group:
            if element.modality is not Modality.TEXT:
                assert element.image is not None
                yield Chunk(
                    id=stable_id(doc_id, element.modality.value, element.image.to_dict(), element.text),
                    doc_id=doc_id,
                    source=element.source,
                    modality=element.modality,
                    text=element.text,
                    context=context,
                    image=element.image,
                    page=element.page,
                    slide=element.slide,
                    metadata={"title_path": list(element.title_path), **element.metadata},
                )


def _merged_metadata(elements: list[Element]) -> dict[str, object]:
    merged: dict[str, object] = {}
    for e in elements:
        merged.update(e.metadata)
    return merged
