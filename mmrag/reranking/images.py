"""Turning a candidate into what a model scores: its text, or its image."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from mmrag.errors import MmragError
from mmrag.types import Chunk, ImageKind, ImageRef, Modality

ImageLoader = Callable[[ImageRef], Any]


def load_image(ref: ImageRef) -> Any:
    """A ``PIL.Image`` (RGB) for an image file reference.

    Page renders and embedded pictures need the loader that made them: pass it
    as ``image_loader`` to the reranker.
    """
    if ref.kind is not ImageKind.FILE:
        raise MmragError(
            f"{ref.source}: a {ref.kind.value} image needs an image_loader (e.g. the PDF loader's renderer) to rerank"
        )
    from PIL import Image

    path = Path(ref.source)
    if not path.is_file():
        raise MmragError(f"{ref.source}: image file not found for reranking")
    with Image.open(path) as img:
        return img.convert("RGB")


def is_visual(chunk: Chunk) -> bool:
    return chunk.modality is not Modality.TEXT and chunk.image is not None
