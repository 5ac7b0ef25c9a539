"""Which candidates a reranker scores by their pixels.

Rerankers resolve a candidate's ``ImageRef`` the way embedders do: they hand the
references to ``Embedder.embed_images``, which opens each one through
``mmrag.embedding.images.open_image`` (an image file, a PDF page render, an
embedded picture, a video keyframe), so a hit that could be embedded can be
reranked, with the same ``BadImageError`` when it cannot.
"""

from __future__ import annotations

from mmrag.types import Chunk, Modality


def is_visual(chunk: Chunk) -> bool:
    return chunk.modality is not Modality.TEXT and chunk.image is not None
