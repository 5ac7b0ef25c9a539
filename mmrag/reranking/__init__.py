"""Rerankers: reorder first-stage hits with a model that looks closer.

Every reranker returns new hits (inputs are never mutated) carrying both the
first-stage score and the rerank score. Models load on first use, once per
process and device.
"""

from mmrag.reranking.base import Reranker, reranked
from mmrag.reranking.bi_encoder import BiEncoderReranker
from mmrag.reranking.calibration import Calibration, calibrate
from mmrag.reranking.cross_encoder import CrossEncoderReranker
from mmrag.reranking.late_interaction import MaxSimReranker
from mmrag.reranking.multimodal import MultimodalReranker
from mmrag.reranking.spec import RerankerKind, reranker_from_spec

__all__ = [
    "BiEncoderReranker",
    "Calibration",
    "CrossEncoderReranker",
    "MaxSimReranker",
    "MultimodalReranker",
    "Reranker",
    "RerankerKind",
    "calibrate",
    "reranked",
    "reranker_from_spec",
]
