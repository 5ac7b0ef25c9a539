"""The embedder contract: the base class batches, a backend implements one hook.

A pooled embedder returns one float32 ``(n, dim)`` array per call; a
multi-vector embedder returns a list of ``(n_tokens_i, dim)`` arrays. One return
type per method, never a union switched by flags.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from contextlib import contextmanager
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from functools import partial
from typing import Any, TypeVar

import numpy as np

from mmrag.embedding.images import DEFAULT_MAX_PIXELS, ImageLoader, open_image, prefetched
from mmrag.errors import InvalidArgument, MmragError
from mmrag.types import Modality

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class EmbedderSpec:
    """What a collection records about an embedder, so a search with another
    model fails instead of mixing vector spaces."""

    model_name: str
    dim: int
    multivector: bool = False
    query_instruction: str | None = None
    document_instruction: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> EmbedderSpec:
        return cls(**json.loads(text))

    def describe(self) -> str:
        kind = "multi-vector" if self.multivector else "pooled"
        prompts = [f"{k} instruction {v!r}" for k, v in (("query", self.query_instruction), ("document", self.document_instruction)) if v]
        return f"{self.model_name} ({', '.join([kind, f'dim {self.dim}', *prompts])})"


def batched(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """Consecutive slices of ``items`` of at most ``size``."""
    if size < 1:
        raise InvalidArgument(f"batch_size must be >= 1, got {size}")
    for start in range(0, len(items), size):
        yield items[start : start + size]


def length_order(texts: Sequence[str]) -> list[int]:
    """Indices of ``texts``, longest first: batches of similar length pad less (as sentence-transformers'
    ``encode`` does over its whole input; batching before ``encode`` would otherwise lose that)."""
    return sorted(range(len(texts)), key=lambda i: -len(texts[i]))


def apply_instruction(instruction: str | None, text: str) -> str:
    """``instruction`` as a template when it holds ``{text}`` (``"a photo of {text}"``), else as a prefix
    (``"query: "``, e5/bge style)."""
    if not instruction:
        return text
    if "{text}" in instruction:
        return instruction.replace("{text}", text)
    return instruction + text


def l2_normalize(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero), as float32."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.maximum(norms, np.finfo(np.float32).tiny)


@contextmanager
def quiet_loading() -> Iterator[None]:
    """transformers' progress bars ("Loading weights") and notices off while a model
    loads, then back as they were: loading a model is not news a user asked for."""
    from transformers.utils import logging as hf_logging

    bars, verbosity = hf_logging.is_progress_bar_enabled(), hf_logging.get_verbosity()
    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    try:
        yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()


class LazyModel:
    """A model loaded once, on first use, so building an embedder (and importing
    mmrag) stays cheap. Subclasses implement ``_load``, which sets ``_model`` and
    whatever goes with it (processor, tokenizer)."""

    _model: Any = None

    def _load(self) -> None:
        raise NotImplementedError

    def load(self) -> None:
        """Load the model now rather than on first use (quietly: see ``quiet_loading``)."""
        self._ensure_model()

    def _ensure_model(self) -> None:
        if self._model is None:
            from mmrag.embedding.loading import model_errors

            with quiet_loading(), model_errors(getattr(self, "model_name", type(self).__name__)):
                self._load()

    @property
    def model(self) -> Any:
        """The loaded model (the full one, also where ``load`` prepares a lighter query path)."""
        self._ensure_model()
        return self._model


class EmbedderBase(ABC):
    """What every embedder shares: batching and instruction options, image
    decoding, loading, and the spec a collection records. ``Embedder`` and
    ``MultiVectorEmbedder`` add their own typed methods (one return type each)."""

    model_name: str
    modalities: frozenset[Modality] = frozenset({Modality.TEXT})
    multivector: bool = False
    default_batch_size = 32

    def __init__(
        self,
        *,
        batch_size: int | None = None,
        query_instruction: str | None = None,
        document_instruction: str | None = None,
        image_loader: ImageLoader | None = None,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        decode_workers: int = 2,
    ) -> None:
        batch_size = self.default_batch_size if batch_size is None else batch_size
        if batch_size < 1:
            raise InvalidArgument(f"batch_size must be >= 1, got {batch_size}")
        self.batch_size = batch_size
        self.query_instruction = query_instruction
        self.document_instruction = document_instruction
        self.image_loader = image_loader
        self.max_pixels = max_pixels
        self.decode_workers = decode_workers

    def load(self) -> None:
        """Load the model now rather than on first use (no-op for embedders with nothing to load)."""

    @property
    @abstractmethod
    def dim(self) -> int:
        """Length of each output (or token) vector."""

    def spec(self) -> EmbedderSpec:
        return EmbedderSpec(
            model_name=self.model_name,
            dim=self.dim,
            multivector=self.multivector,
            query_instruction=self.query_instruction,
            document_instruction=self.document_instruction,
        )

    def _check_images(self) -> None:
        if Modality.IMAGE not in self.modalities:
            kind = "a page/image late-interaction model" if self.multivector else "an image-text model"
            raise MmragError(f"{self.model_name} embeds text only; use {kind}")

    def _prefetched(self, images: Sequence[Any], image_loader: ImageLoader | None) -> Iterator[list[Any]]:
        """Batches of prepared images, decoded in threads one batch ahead of the model."""
        self.load()  # here, not lazily in a decode thread: concurrent first loads would race
        prepare = partial(self._prepare_image, image_loader=image_loader or self.image_loader)
        return prefetched(list(images), self.batch_size, prepare, self.decode_workers)

    def _prepare_image(self, item: Any, image_loader: ImageLoader | None) -> Any:
        """CPU work for one image, run in a decode thread: by default the decoded RGB ``PIL.Image``."""
        return open_image(item, image_loader=image_loader, max_pixels=self.max_pixels)


class Embedder(EmbedderBase):
    """A pooled embedder: texts (and, where supported, images) to one vector each.

    Subclasses set ``model_name``, ``dim`` and ``modalities`` and implement
    ``_embed_texts``; image-capable ones also implement ``_embed_prepared``.
    """

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors for search queries (the query instruction applies)."""
        return self._run_texts(list(texts), query=True)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors for stored text (the document instruction applies)."""
        return self._run_texts(list(texts), query=False)

    def _run_texts(self, texts: list[str], *, query: bool) -> np.ndarray:
        order = length_order(texts)
        vectors = self._run([texts[i] for i in order], lambda b: self._embed_texts(b, query=query))
        out = np.empty_like(vectors)
        out[order] = vectors
        return out

    def embed_images(self, images: Sequence[Any], *, image_loader: ImageLoader | None = None) -> np.ndarray:
        """Vectors for images: paths, ``PIL.Image``, bytes or ``ImageRef`` (resolved by ``image_loader``,
        else the embedder's own, else ``mmrag.loaders.image_refs.open_image``).

        Decoding runs in ``decode_workers`` threads one batch ahead of the model."""
        self._check_images()
        images = list(images)
        if not images:
            return np.zeros((0, self.dim), dtype=np.float32)
        parts = [np.asarray(self._embed_prepared(batch), dtype=np.float32) for batch in self._prefetched(images, image_loader)]
        return np.concatenate(parts, axis=0)

    def _run(self, items: list[Any], hook: Callable[[list[Any]], np.ndarray]) -> np.ndarray:
        if not items:
            return np.zeros((0, self.dim), dtype=np.float32)
        parts = [np.asarray(hook(list(batch)), dtype=np.float32) for batch in batched(items, self.batch_size)]
        return np.concatenate(parts, axis=0)

    @abstractmethod
    def _embed_texts(self, texts: list[str], *, query: bool) -> np.ndarray:
        """Embed one batch of texts."""

    def _embed_prepared(self, prepared: list[Any]) -> np.ndarray:
        """Embed one batch of prepared images (image-capable embedders implement this)."""
        raise NotImplementedError(f"{type(self).__name__} does not embed images")


class MultiVectorEmbedder(EmbedderBase):
    """A late-interaction embedder: one ``(n_tokens, dim)`` float32 array per input.

    Subclasses set ``model_name`` and ``modalities`` and implement
    ``_embed_texts`` (and ``_embed_prepared`` for page/image models). Score with
    ``mmrag.embedding.maxsim.maxsim``.
    """

    multivector: bool = True
    default_batch_size = 8

    def embed_queries(self, texts: Sequence[str]) -> list[np.ndarray]:
        return self._run_texts(list(texts), query=True)

    def embed_documents(self, texts: Sequence[str]) -> list[np.ndarray]:
        return self._run_texts(list(texts), query=False)

    def _run_texts(self, texts: list[str], *, query: bool) -> list[np.ndarray]:
        order = length_order(texts)
        vectors = self._run([texts[i] for i in order], lambda b: self._embed_texts(b, query=query))
        out: list[np.ndarray] = [np.empty(0)] * len(texts)
        for position, vec in zip(order, vectors):
            out[position] = vec
        return out

    def embed_images(self, images: Sequence[Any], *, image_loader: ImageLoader | None = None) -> list[np.ndarray]:
        """Token vectors for images (same inputs and decode pipeline as ``Embedder.embed_images``)."""
        self._check_images()
        out: list[np.ndarray] = []
        for batch in self._prefetched(images, image_loader):
            out.extend(np.asarray(v, dtype=np.float32) for v in self._embed_prepared(batch))
        return out

    def _run(self, items: list[Any], hook: Callable[[list[Any]], list[np.ndarray]]) -> list[np.ndarray]:
        out: list[np.ndarray] = []
        for batch in batched(items, self.batch_size):
            out.extend(np.asarray(v, dtype=np.float32) for v in hook(list(batch)))
        return out

    @abstractmethod
    def _embed_texts(self, texts: list[str], *, query: bool) -> list[np.ndarray]:
        """Embed one batch of texts to token vectors."""

    def _embed_prepared(self, prepared: list[Any]) -> list[np.ndarray]:
        raise NotImplementedError(f"{type(self).__name__} does not embed images")
