"""Opening a command's store and index: credentials, recorded models and speech options."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # each command imports what it runs: a BM25 search loads no loaders and no torch
    from mmrag.asr import Transcriber
    from mmrag.stores import VectorStore


def open_index(
    store: str, collection: str, model: str | None, image_model: str | None = None, speech: Speech | None = None,
    *, create: bool = True,
):
    from mmrag.embedding.spaces import text_and_image_spaces
    from mmrag.index import Index
    from mmrag.stores import open_store

    # The CLI draws its own progress; keep stdout clean. An environment variable, read when
    # transformers first loads, so that a command without a model never imports it.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    opened = open_store(store, collection, token=store_token(store), create=create)
    spaces = text_and_image_spaces(*recorded_models(opened, model, image_model))
    return Index(opened, embedder=spaces, asr_model=speech.transcriber(opened) if speech else None)


@dataclass(frozen=True)
class Speech:
    """The media options of ``ingest``: which ASR model, which language, and
    whether a model other than the collection's may re-read its audio and video."""

    model: str | None
    language: str | None
    retranscribe: bool

    def transcriber(self, store: VectorStore) -> Transcriber | None:
        """This run's transcriber; without ``--asr-model``, the one the collection recorded
        (as the embedding models are), unless the run re-transcribes."""
        from mmrag.asr import transcriber_for

        if self.model:
            return transcriber_for(self.model, self.language)
        recorded = None if self.retranscribe else store.asr_model()
        return transcriber_for(recorded.model_name, recorded.language) if recorded else None


def store_token(store: str) -> str | None:
    """The credential for ``store`` from the environment: WEAVIATE_API_KEY or MILVUS_TOKEN (user:password)."""
    from mmrag.stores.uris import is_weaviate_uri

    return os.environ.get("WEAVIATE_API_KEY" if is_weaviate_uri(store) else "MILVUS_TOKEN")


def recorded_models(opened: VectorStore, model: str | None, image_model: str | None) -> tuple[str, str | None]:
    """The text and image models of a run: those given, else those the collection
    recorded (a later search or ingest need not repeat them), else the default text model."""
    from mmrag.embedding.sentence_transformer import DEFAULT_TEXT_MODEL

    recorded = opened.spaces()
    if model is None and "text" in recorded:
        model = recorded["text"].model_name
    if image_model is None and "image" in recorded:
        image_model = recorded["image"].model_name
    return model or DEFAULT_TEXT_MODEL, image_model
