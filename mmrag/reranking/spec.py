"""Building a reranker from a short spec string (the CLI's ``--rerank``)."""

from __future__ import annotations


from mmrag.errors import InvalidArgument
from mmrag.types import ChoiceEnum
from mmrag.embedding.base import Embedder
from mmrag.reranking.base import Reranker


class RerankerKind(ChoiceEnum):
    """``bi-encoder[:MODEL]`` (default MiniLM) or ``cross-encoder:MODEL`` (an id or local path)."""

    __noun__ = "reranker"

    BI_ENCODER = "bi-encoder"
    CROSS_ENCODER = "cross-encoder"


def reranker_from_spec(
    spec: str, *, device: str | None = None, batch_size: int = 32, text_embedder: Embedder | None = None
) -> Reranker:
    """``"bi-encoder"``, ``"bi-encoder:MODEL"`` or ``"cross-encoder:MODEL"``.

    ``text_embedder`` is reused by a plain ``bi-encoder`` when it is the same
    model, so a search that already loaded MiniLM does not load it again.
    """
    kind_text, _, model = spec.partition(":")
    kind = RerankerKind.parse(kind_text.strip())
    model = model.strip() or None
    if kind is RerankerKind.CROSS_ENCODER:
        from mmrag.reranking.cross_encoder import CrossEncoderReranker

        if model is None:
            raise InvalidArgument("cross-encoder needs a model: cross-encoder:MODEL_ID_OR_PATH")
        return CrossEncoderReranker(model, device=device, batch_size=batch_size)
    from mmrag.embedding.sentence_transformer import DEFAULT_TEXT_MODEL
    from mmrag.reranking.bi_encoder import BiEncoderReranker

    if text_embedder is not None and text_embedder.model_name == (model or DEFAULT_TEXT_MODEL):
        return BiEncoderReranker(embedder=text_embedder)
    return BiEncoderReranker(model, device=device, batch_size=batch_size)
