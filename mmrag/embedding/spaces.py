"""Named embedding spaces: which embedder makes the vectors of each dense field.

Every chunk gets a vector in every space: a text-only space embeds an image
chunk by its text (OCR, caption, context), an image-text space embeds it by its
pixels. So no row has a missing vector, and one query searches every space.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from mmrag.embedding.base import Embedder, EmbedderSpec
from mmrag.types import Chunk, ImageRef, Modality

ImageLoader = Callable[[ImageRef], Any]


class EmbeddingSpaces:
    """A mapping ``space name -> embedder`` with routing by chunk modality.

    Example::

        spaces = EmbeddingSpaces({"text": SentenceTransformerEmbedder()})
        vectors = spaces.embed_chunks(chunks)      # {"text": (n, 384) float32}
        query = spaces.embed_query("solar panels")  # {"text": (384,) float32}
    """

    def __init__(self, embedders: Mapping[str, Embedder], image_loader: ImageLoader | None = None) -> None:
        if not embedders:
            raise ValueError("at least one embedding space is needed")
        for name in embedders:
            if not name.isidentifier():
                raise ValueError(f"space name {name!r} must be a Python identifier (letters, digits, _)")
        self.embedders = dict(embedders)
        self.image_loader = image_loader

    @property
    def embeds_images(self) -> bool:
        """True when some space embeds image pixels (not only their text)."""
        return any(Modality.IMAGE in emb.modalities for emb in self.embedders.values())

    def specs(self) -> dict[str, EmbedderSpec]:
        return {name: emb.spec() for name, emb in self.embedders.items()}

    @property
    def tokenizer(self) -> Any:
        """The tokenizer chunks are sized by: the first space with one."""
        for emb in self.embedders.values():
            tok = getattr(emb, "tokenizer", None)
            if tok is not None:
                return tok
        raise ValueError("no embedder in these spaces exposes a tokenizer to size chunks by")

    def embed_chunks(self, chunks: Sequence[Chunk]) -> dict[str, np.ndarray]:
        """Vectors for ``chunks`` in every space, rows aligned with ``chunks``."""
        return {name: self._embed_in(emb, chunks) for name, emb in self.embedders.items()}

    def _embed_in(self, emb: Embedder, chunks: Sequence[Chunk]) -> np.ndarray:
        out = np.zeros((len(chunks), emb.dim), dtype=np.float32)
        visual = [i for i, c in enumerate(chunks) if c.modality is not Modality.TEXT and Modality.IMAGE in emb.modalities]
        as_text = [i for i in range(len(chunks)) if i not in set(visual)]
        if as_text:
            out[as_text] = emb.embed_documents([chunks[i].embed_text for i in as_text])
        if visual:
            images = [self._image(chunks[i]) for i in visual]
            out[visual] = emb.embed_images(images)
        return out

    def _image(self, chunk: Chunk) -> Any:
        assert chunk.image is not None
        return self.image_loader(chunk.image) if self.image_loader else chunk.image

    def embed_query(self, text: str) -> dict[str, np.ndarray]:
        """The query vector in every space."""
        return {name: emb.embed_queries([text])[0] for name, emb in self.embedders.items()}
