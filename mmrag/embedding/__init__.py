"""Embedders: text, image-text (CLIP/SigLIP) and late-interaction (ColPali/ColQwen2/ColBERT).

Importing this package is cheap: torch and transformers load when a model is first used.
"""

from mmrag.embedding.base import Embedder, EmbedderSpec, MultiVectorEmbedder
from mmrag.embedding.calibration import ModalityCalibration
from mmrag.embedding.clip import ImageTextEmbedder
from mmrag.embedding.images import BadImageError, open_image
from mmrag.embedding.late_interaction import ColBERTEmbedder, PageEmbedder
from mmrag.embedding.maxsim import maxsim
from mmrag.embedding.sentence_transformer import SentenceTransformerEmbedder
from mmrag.embedding.spaces import EmbeddingSpaces

__all__ = [
    "BadImageError",
    "ColBERTEmbedder",
    "Embedder",
    "EmbedderSpec",
    "EmbeddingSpaces",
    "ImageTextEmbedder",
    "ModalityCalibration",
    "MultiVectorEmbedder",
    "PageEmbedder",
    "SentenceTransformerEmbedder",
    "maxsim",
    "open_image",
]
