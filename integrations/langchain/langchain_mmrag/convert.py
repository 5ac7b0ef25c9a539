"""The one place where mmrag records and LangChain Documents meet.

Two directions, two shapes of metadata:

* ``chunk_to_document`` is faithful: a Document added through the vector store
  comes back with exactly the metadata it was added with (LangChain's standard
  tests demand it); location fields are added only where they carry something.
* ``hit_to_document`` is rich: the search JSON contract (``Hit.to_dict``) flattened
  into metadata, so an agent or UI sees source, page, slide, start/end, modality,
  image reference and every stage's score.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from langchain_core.documents import Document

from mmrag.fields import check_id, locations
from mmrag.types import Chunk, Hit, ImageKind, ImageRef, Modality, stable_id

LOCATION_KEYS = ("page", "slide", "start", "end")


def chunk_from_metadata(chunk_id: str, text: str, metadata: Mapping[str, Any]) -> Chunk:
    """A Chunk whose location fields are read from LangChain-style metadata.

    Keys that fit a column (``source``, 1-based ``page``/``slide``, ``start``/``end``
    seconds, ``modality`` + ``image``) fill it, so filters on them use the indexed
    columns; the metadata itself is stored unchanged.
    """
    meta = dict(metadata)
    source = meta.get("source") if isinstance(meta.get("source"), str) else ""
    image = ImageRef.from_dict(meta["image"]) if isinstance(meta.get("image"), Mapping) else None
    modality = Modality.parse(meta.get("modality", Modality.IMAGE if image else Modality.TEXT))
    doc_id = meta.get("doc_id") if isinstance(meta.get("doc_id"), str) and meta.get("doc_id") else None
    return Chunk(
        id=check_id(chunk_id, "document id"),
        doc_id=doc_id or stable_id("langchain", source or chunk_id),
        source=source,
        modality=modality,
        text=text,
        image=image,
        metadata=meta,
        **locations(meta),
    )


def image_chunk(chunk_id: str, uri: str, metadata: Mapping[str, Any]) -> Chunk:
    """An image file as a chunk: the file is the image; its name is the text context."""
    meta = {"source": uri, **metadata}
    ref = ImageRef(source=uri, kind=ImageKind.FILE)
    return Chunk(
        id=check_id(chunk_id, "document id"),
        doc_id=stable_id("langchain", uri),
        source=uri,
        modality=Modality.IMAGE,
        text=str(meta.get("caption") or ""),
        context=Path(uri).name,
        image=ref,
        metadata=meta,
    )


def chunk_to_document(chunk: Chunk) -> Document:
    """Faithful: the stored metadata plus location fields that carry something."""
    meta = dict(chunk.metadata)
    if chunk.source:
        meta["source"] = chunk.source
    for key in LOCATION_KEYS:
        value = getattr(chunk, key)
        if value is not None and key not in meta:
            meta[key] = value
    if chunk.modality is not Modality.TEXT:
        meta["modality"] = chunk.modality.value
    if chunk.image is not None:
        meta["image"] = chunk.image.to_dict()
    return Document(id=chunk.id, page_content=chunk.text, metadata=meta)


def hit_to_document(hit: Hit) -> Document:
    """Rich: the ``Hit.to_dict`` contract as metadata (the chunk's own metadata first)."""
    data = hit.to_dict()
    text = data.pop("text")
    meta = {**data.pop("metadata"), **data}
    return Document(id=hit.chunk.id, page_content=text, metadata=meta)


def document_to_hit(doc: Document, fallback_id: str) -> Hit:
    """A Document (ours or anyone's) as a Hit, so an mmrag reranker can score it."""
    meta = dict(doc.metadata)
    chunk_id = doc.id or (meta.get("chunk_id") if isinstance(meta.get("chunk_id"), str) else None) or fallback_id
    score = meta.get("score")
    return Hit(chunk_from_metadata(chunk_id, doc.page_content, meta), float(score) if isinstance(score, (int, float)) else 0.0)
