"""Named embedding spaces: which embedder makes the vectors of each dense field.

Every chunk gets a vector in every space: a text-only space embeds an image
chunk by its text (OCR, caption, context), an image-text space embeds it by its
pixels. So no row has a missing vector, and one query searches every space.

A pooled space gives a float32 ``(n_chunks, dim)`` array; a multi-vector
(late-interaction) space gives a list of ``(n_tokens_i, dim)`` arrays aligned
with the chunks, and its query is an ``(n_query_tokens, dim)`` array.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import pairwise
from typing import Any

import numpy as np

from mmrag.embedding.base import Embedder, EmbedderSpec, MultiVectorEmbedder
from mmrag.embedding.calibration import ModalityCalibration
from mmrag.embedding.images import ImageInput, ImageLoader
from mmrag.errors import InvalidArgument
from mmrag.types import Chunk, Modality

AnyEmbedder = Embedder | MultiVectorEmbedder
SpaceVectors = np.ndarray | list[np.ndarray]


class EmbeddingSpaces:
    """A mapping ``space name -> embedder`` with routing by chunk modality.

    Example::

        spaces = EmbeddingSpaces({"text": SentenceTransformerEmbedder()})
        vectors = spaces.embed_chunks(chunks)      # {"text": (n, 384) float32}
        query = spaces.embed_query("solar panels")  # {"text": (384,) float32}

        spaces = EmbeddingSpaces({"text": SentenceTransformerEmbedder(),
                                  "pages": PageEmbedder("vidore/colpali-v1.3-hf")},
                                 image_loader=open_image)
        spaces.embed_chunks(chunks)["pages"]        # [(n_tokens_i, 128), ...] one per chunk

    ``image_loader`` resolves the chunks' ``ImageRef`` s inside each embedder's
    decode threads (so a long PDF's page renders are never all in memory);
    without one, embedders use ``mmrag.loaders.image_refs.open_image``.
    ``calibrations`` (off by default) centres a pooled space's chunk and query
    vectors per modality (see ``mmrag.embedding.calibration``).
    """

    def __init__(
        self,
        embedders: Mapping[str, AnyEmbedder],
        image_loader: ImageLoader | None = None,
        calibrations: Mapping[str, ModalityCalibration] | None = None,
    ) -> None:
        if not embedders:
            raise InvalidArgument("at least one embedding space is needed")
        for name in embedders:
            if not name.isidentifier():
                raise InvalidArgument(f"space name {name!r} must be a Python identifier (letters, digits, _)")
        self.embedders = dict(embedders)
        self.image_loader = image_loader
        self.calibrations = dict(calibrations or {})
        for name in self.calibrations:
            if name not in self.embedders or self.embedders[name].multivector:
                raise InvalidArgument(f"calibration for {name!r} needs a pooled space of that name")

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
        raise InvalidArgument("no embedder in these spaces exposes a tokenizer to size chunks by")

    def is_multivector(self, space: str) -> bool:
        return bool(self.embedders[space].multivector)

    def embed_chunks(self, chunks: Sequence[Chunk]) -> dict[str, SpaceVectors]:
        """Vectors for ``chunks`` in every space, rows (or list items) aligned with ``chunks``."""
        out = {name: self._embed_in(emb, chunks) for name, emb in self.embedders.items()}
        for name, cal in self.calibrations.items():
            out[name] = cal.center(out[name], [c.modality for c in chunks])
        return out

    def _embed_in(self, emb: AnyEmbedder, chunks: Sequence[Chunk]) -> SpaceVectors:
        visual = [i for i, c in enumerate(chunks) if c.modality is not Modality.TEXT and Modality.IMAGE in emb.modalities]
        visual_set = set(visual)
        as_text = [i for i in range(len(chunks)) if i not in visual_set]
        text_vecs = emb.embed_documents([chunks[i].embed_text for i in as_text]) if as_text else None
        image_vecs = emb.embed_images([chunks[i].image for i in visual], image_loader=self.image_loader) if visual else None
        if emb.multivector:
            out: list[Any] = [None] * len(chunks)
            for rows, vecs in ((as_text, text_vecs), (visual, image_vecs)):
                for i, v in zip(rows, vecs if vecs is not None else []):
                    out[i] = v
            return out
        array = np.zeros((len(chunks), emb.dim), dtype=np.float32)
        if text_vecs is not None:
            array[as_text] = text_vecs
        if image_vecs is not None:
            array[visual] = image_vecs
        return array

    def embed_query(self, text: str | None = None, image: ImageInput | None = None) -> dict[str, np.ndarray]:
        """The query in every space that can take it: ``(dim,)`` for a pooled space,
        ``(n_query_tokens, dim)`` for a multi-vector one.

        With ``image``, a space that embeds pixels gets the image (composed with
        ``text`` where the embedder supports it, e.g. CLIP's "this, but red");
        a text-only space gets the text, or is left out of an image-only query.
        """
        if image is None and not (text and text.strip()):
            raise InvalidArgument("a query needs text, an image, or both")
        if image is not None and not self.embeds_images:  # never drop the image and answer the text alone
            raise InvalidArgument(
                f"no embedding space here embeds images (spaces: {', '.join(self.embedders)}); "
                "an image query needs an image-text model, e.g. --image-model openai/clip-vit-base-patch32"
            )
        out: dict[str, np.ndarray] = {}
        for name, emb in self.embedders.items():
            by_image = image is not None and Modality.IMAGE in emb.modalities
            if by_image:
                composed = getattr(emb, "embed_composed", None)
                vec = composed([image], [text])[0] if text and composed else emb.embed_images([image], image_loader=self.image_loader)[0]
            elif text:
                vec = emb.embed_queries([text])[0]
            else:
                continue
            out[name] = np.asarray(vec, dtype=np.float32)
            if name in self.calibrations:
                out[name] = self.calibrations[name].center(out[name][None], [Modality.IMAGE if by_image else Modality.TEXT])[0]
        return out


def text_and_image_spaces(text_model: str, image_model: str | None = None) -> EmbeddingSpaces:
    """The spaces ``mmrag ingest`` builds from its options: ``text`` (a
    sentence-transformers model), and with ``image_model`` an ``image`` space (an
    image-text model such as CLIP). The models load on first use."""
    from mmrag.embedding.sentence_transformer import SentenceTransformerEmbedder

    embedders: dict[str, Any] = {"text": SentenceTransformerEmbedder(text_model)}
    if image_model:
        from mmrag.embedding.clip import ImageTextEmbedder

        embedders["image"] = ImageTextEmbedder(image_model)
    return EmbeddingSpaces(embedders)


def split_rows(vectors: SpaceVectors, counts: Sequence[int]) -> list[SpaceVectors]:
    """Rows of one batched embedding call given back to the sources they came from."""
    bounds = np.cumsum([0, *counts])
    return [vectors[a:b] for a, b in pairwise(bounds)]


def join_rows(parts: Sequence[Mapping[str, SpaceVectors]]) -> dict[str, SpaceVectors]:
    """Per-source vectors back into one batch per space (``split_rows`` undone)."""
    out: dict[str, SpaceVectors] = {}
    for space in parts[0]:
        pieces = [p[space] for p in parts]
        out[space] = np.concatenate(pieces) if isinstance(pieces[0], np.ndarray) else [v for piece in pieces for v in piece]
    return out


def take_rows(vectors: Mapping[str, SpaceVectors], rows: Sequence[int]) -> dict[str, SpaceVectors]:
    """The given rows of each space's vectors, in that order."""
    return {space: v[list(rows)] if isinstance(v, np.ndarray) else [v[i] for i in rows] for space, v in vectors.items()}
