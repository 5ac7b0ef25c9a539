"""The one place where mmrag records and LlamaIndex nodes meet.

A node written through the vector store is kept whole in the chunk's metadata
(LlamaIndex's own ``node_to_metadata_dict`` convention), so it comes back with its
text, image path, metadata and relationships. A chunk that ``mmrag ingest`` wrote
becomes a ``TextNode``/``ImageNode`` whose metadata carries source, page, slide,
start/end, modality and the image reference.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from llama_index.core.schema import BaseNode, ImageNode, NodeRelationship, RelatedNodeInfo, TextNode
from llama_index.core.vector_stores.utils import metadata_dict_to_node, node_to_metadata_dict

from mmrag.fields import locations
from mmrag.types import Chunk, Hit, ImageKind, ImageRef, Modality, stable_id

# Keys mmrag adds to a node's metadata; kept out of the text an embedder or LLM sees.
MMRAG_KEYS = ("chunk_id", "doc_id", "modality", "page", "slide", "start", "end", "context", "image", "title_path")


def _image_ref(node: BaseNode) -> ImageRef | None:
    """Where the node's image is: its ``image_path``, else an mmrag image reference in its metadata."""
    if isinstance(node, ImageNode) and node.image_path:
        return ImageRef(source=str(node.image_path), kind=ImageKind.FILE)
    raw = node.metadata.get("image")
    if isinstance(raw, Mapping):
        return ImageRef.from_dict(raw)
    if isinstance(node, ImageNode):
        raise TypeError(f"ImageNode {node.node_id}: mmrag stores images by path; set image_path")
    return None


def node_to_chunk(node: BaseNode) -> Chunk:
    """A node as a chunk; location columns are filled from same-named metadata keys."""
    meta = node.metadata
    image = _image_ref(node)
    source = meta.get("source") or meta.get("file_path") or (image.source if image else "")
    modality = Modality.IMAGE if isinstance(node, ImageNode) else Modality.parse(meta.get("modality", "text"))
    return Chunk(
        id=node.node_id,
        doc_id=node.ref_doc_id or node.node_id,
        source=str(source),
        modality=modality if image else Modality.TEXT,
        text=node.get_content(),
        image=image,
        metadata=node_to_metadata_dict(node, remove_text=True, flat_metadata=False),
        **locations(meta),
    )


def chunk_metadata(chunk: Chunk) -> dict[str, Any]:
    """The chunk's metadata plus its location fields (None ones left out)."""
    meta: dict[str, Any] = {**chunk.metadata, "source": chunk.source, "doc_id": chunk.doc_id}
    meta["modality"] = chunk.modality.value
    for key in ("page", "slide", "start", "end"):
        if getattr(chunk, key) is not None:
            meta[key] = getattr(chunk, key)
    if chunk.context:
        meta["context"] = chunk.context
    if chunk.image is not None:
        meta["image"] = chunk.image.to_dict()
    return meta


def container_id(chunk: Chunk) -> str:
    """The id of the page/slide/section a chunk sits in: the parent of its chunks."""
    return stable_id(chunk.doc_id, "container", chunk.page, chunk.slide, tuple(chunk.metadata.get("title_path") or ()))


def chunk_to_node(chunk: Chunk) -> BaseNode:
    """The node a chunk stands for: restored whole if LlamaIndex wrote it, else built from the chunk."""
    if "_node_content" in chunk.metadata:
        return metadata_dict_to_node(dict(chunk.metadata), text=chunk.text)
    meta = chunk_metadata(chunk)
    hidden = [k for k in MMRAG_KEYS if k in meta]
    relationships = {
        NodeRelationship.SOURCE: RelatedNodeInfo(node_id=chunk.doc_id, metadata={"source": chunk.source}),
        NodeRelationship.PARENT: RelatedNodeInfo(node_id=container_id(chunk)),
    }
    fields: dict[str, Any] = {
        "id_": chunk.id,
        "text": chunk.text,
        "metadata": meta,
        "relationships": relationships,
        "excluded_embed_metadata_keys": hidden,
        "excluded_llm_metadata_keys": [k for k in hidden if k not in ("page", "slide", "start", "end")],
    }
    if chunk.image is None:
        return TextNode(**fields)
    path = chunk.image.source if chunk.image.kind is ImageKind.FILE else None
    return ImageNode(image_path=path, **fields)


def node_to_hit(node: BaseNode, score: float | None) -> Hit:
    """Any node (ours or not) as a Hit, so an mmrag reranker can score it."""
    return Hit(node_to_chunk(node), float(score) if score is not None else 0.0)
