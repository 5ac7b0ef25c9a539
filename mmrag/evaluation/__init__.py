"""Evaluation: score a store's retrieval against a queries file (``mmrag eval``).

Parsing, matching and metrics are pure functions, so the same code scores mmrag,
a baseline wrapped as a search function, or hits saved as JSON.
"""

from mmrag.evaluation.matching import hit_matches, judge, source_matches
from mmrag.evaluation.metrics import latency_summary, ndcg_at_k, recall_at_k, reciprocal_rank
from mmrag.evaluation.queries import EvalQuery, QueriesFileError, Relevant, parse_queries, read_queries
from mmrag.evaluation.runner import EvalError, EvalMode, EvalReport, IndexSearcher, check_supported, evaluate, parse_ks

__all__ = [
    "EvalError",
    "EvalMode",
    "EvalQuery",
    "EvalReport",
    "IndexSearcher",
    "QueriesFileError",
    "Relevant",
    "check_supported",
    "evaluate",
    "hit_matches",
    "judge",
    "latency_summary",
    "ndcg_at_k",
    "parse_ks",
    "parse_queries",
    "read_queries",
    "recall_at_k",
    "reciprocal_rank",
    "source_matches",
]
