"""Run a queries file against a retriever in several modes and summarise the metrics.

``evaluate`` takes any search function ``(query, mode, depth) -> hit dicts``, so a
baseline is scored by exactly the same code as mmrag; ``IndexSearcher`` is that
function for an ``mmrag.Index``, and refuses up front what this build cannot run.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mmrag.errors import InvalidArgument, MmragError
from mmrag.evaluation.matching import judge
from mmrag.evaluation.metrics import latency_summary, ndcg_at_k, recall_at_k, reciprocal_rank
from mmrag.evaluation.queries import EvalQuery
from mmrag.types import ChoiceEnum, Hit

NDCG_K = 10


class EvalError(MmragError):
    """An evaluation cannot run as asked (a mode or query kind this build lacks, bad options)."""


class EvalMode(ChoiceEnum):
    """How each query is searched."""

    __noun__ = "mode"

    DENSE = "dense"
    BM25 = "bm25"
    HYBRID = "hybrid"
    HYBRID_RERANK = "hybrid+rerank"


    @classmethod
    def parse_list(cls, value: str) -> list[EvalMode]:
        """``"dense,bm25"`` -> modes in the order given, duplicates dropped."""
        modes = [cls.parse(part.strip()) for part in value.split(",") if part.strip()]
        if not modes:
            raise InvalidArgument("no modes given")
        return list(dict.fromkeys(modes))


def parse_ks(value: str) -> tuple[int, ...]:
    """``"1,5,10"`` -> (1, 5, 10): sorted, unique, each >= 1."""
    try:
        ks = sorted({int(part) for part in value.split(",") if part.strip()})
    except ValueError:
        raise InvalidArgument(f"--k takes comma-separated integers, got {value!r}") from None
    if not ks or ks[0] < 1:
        raise InvalidArgument(f"--k takes integers >= 1, got {value!r}")
    return tuple(ks)


SearchFn = Callable[[EvalQuery, EvalMode, int], Sequence[Mapping[str, Any]]]
Reranker = Callable[[str, list[Hit]], list[Hit]]


def check_supported(
    queries: Sequence[EvalQuery], modes: Sequence[EvalMode], *, has_reranker: bool, embeds_images: bool
) -> None:
    """Raise ``EvalError`` for what an ``mmrag.Index`` cannot run (cheap: models load on first use)."""
    if EvalMode.HYBRID_RERANK in modes and not has_reranker:
        raise EvalError(
            "mode 'hybrid+rerank' needs a reranker: pass --rerank (e.g. bi-encoder or cross-encoder:MODEL)"
        )
    image_query = next((q for q in queries if q.image), None)
    if image_query is not None and not embeds_images:
        raise EvalError(
            f"line {image_query.line}: an image query, but no embedding space here embeds images; "
            "search a collection built with an image-text model (--image-model) or remove the 'image' key"
        )


@dataclass
class IndexSearcher:
    """The search function for an ``mmrag.Index``.

    Example::

        searcher = IndexSearcher(mmrag.Index("mmrag.db"))
        report = evaluate(read_queries("queries.jsonl"), searcher, [EvalMode.HYBRID])

    ``reranker`` (query text, first-stage hits) -> reranked hits enables
    ``hybrid+rerank``; it sees the best ``rerank_depth`` hybrid hits.

    Image queries go to the spaces that embed pixels. An image-only query has no
    text, so BM25 finds nothing for it (a miss, as for any text-only retriever)
    and ``hybrid+rerank`` keeps its hybrid order (rerankers score query text);
    ``IMAGE_ONLY_NOTE`` says so in the report.
    """

    index: Any  # mmrag.Index; typed loosely so this module does not import the whole stack
    reranker: Reranker | None = None
    rerank_depth: int = 50

    def check(self, queries: Sequence[EvalQuery], modes: Sequence[EvalMode]) -> None:
        """Raise ``EvalError`` for anything this index cannot run, before any query runs."""
        check_supported(queries, modes, has_reranker=self.reranker is not None, embeds_images=self.index.spaces.embeds_images)

    def __call__(self, query: EvalQuery, mode: EvalMode, depth: int) -> list[dict[str, Any]]:
        if mode is EvalMode.BM25 and not query.text:
            return []
        if mode is EvalMode.HYBRID_RERANK:
            assert self.reranker is not None
            first = self.index.search(query.text, max(depth, self.rerank_depth), image=query.image, mode="hybrid")
            hits = self.reranker(query.text, first) if query.text else first
            return [h.to_dict() for h in hits[:depth]]
        return [h.to_dict() for h in self.index.search(query.text, depth, image=query.image, mode=mode.value)]


IMAGE_ONLY_NOTE = (
    "image-only queries have no text: BM25 counts them as misses, and hybrid+rerank keeps their hybrid order"
)


@dataclass(frozen=True)
class QueryResult:
    """One query in one mode: which hits found something, and how long the search took."""

    query: EvalQuery
    mode: EvalMode
    found: tuple[bool, ...]
    seconds: float

    @property
    def first_rank(self) -> int | None:
        return next((rank for rank, f in enumerate(self.found, start=1) if f), None)


def summarize(results: Sequence[QueryResult], ks: Sequence[int]) -> dict[str, Any]:
    """Mean recall@k, MRR and nDCG@10 over ``results``, plus latency per query."""
    n = len(results)
    out: dict[str, Any] = {"queries": n}
    for k in ks:
        out[f"recall@{k}"] = sum(recall_at_k(r.found, len(r.query.relevant), k) for r in results) / n
    out["mrr"] = sum(reciprocal_rank(r.found) for r in results) / n
    out[f"ndcg@{NDCG_K}"] = sum(ndcg_at_k(r.found, len(r.query.relevant), NDCG_K) for r in results) / n
    out["latency_ms"] = latency_summary([r.seconds for r in results])
    return out


@dataclass
class EvalReport:
    """Per-query results and their summaries per mode, per query modality and per group."""

    ks: tuple[int, ...]
    results: list[QueryResult] = field(default_factory=list)

    def modes(self) -> list[EvalMode]:
        return list(dict.fromkeys(r.mode for r in self.results))

    def summary(self) -> dict[str, dict[str, dict[str, Any]]]:
        """``{mode: {"all" | "modality:text" | "group:NAME": metrics}}``."""
        out: dict[str, dict[str, dict[str, Any]]] = {}
        for mode in self.modes():
            rows = [r for r in self.results if r.mode is mode]
            parts: dict[str, list[QueryResult]] = {"all": rows}
            for r in rows:
                parts.setdefault(f"modality:{r.query.modality}", []).append(r)
            for r in rows:
                if r.query.group is not None:
                    parts.setdefault(f"group:{r.query.group}", []).append(r)
            out[mode.value] = {name: summarize(part, self.ks) for name, part in parts.items()}
        return out

    def to_dict(self) -> dict[str, Any]:
        queries = list({r.query.id: r.query for r in self.results}.values())
        image_only = any(q.image and not q.text for q in queries)
        return {
            "queries": len(queries),
            "k": list(self.ks),
            "ndcg_k": NDCG_K,
            "notes": [IMAGE_ONLY_NOTE] if image_only and {EvalMode.BM25, EvalMode.HYBRID_RERANK} & set(self.modes()) else [],
            "modes": self.summary(),
            "per_query": [
                {"id": r.query.id, "mode": r.mode.value, "modality": r.query.modality, "group": r.query.group,
                 "first_relevant_rank": r.first_rank, "latency_ms": round(r.seconds * 1000, 3)}
                for r in self.results
            ],
        }


def evaluate(
    queries: Sequence[EvalQuery],
    search: SearchFn,
    modes: Sequence[EvalMode],
    ks: Sequence[int] = (1, 5, 10),
    *,
    warmup: bool = True,
) -> EvalReport:
    """Search every query in every mode and judge the hits.

    ``search`` is asked for ``max(ks + [10])`` hits so nDCG@10 is always defined.
    With ``warmup`` one untimed search per mode runs first, so a model loading on
    first use does not land in the latency of query 1.
    """
    ks = tuple(sorted(set(ks)))
    if not ks or ks[0] < 1:
        raise EvalError(f"k values must be >= 1, got {list(ks)}")
    if not queries:
        raise EvalError("no queries to evaluate")
    checker = getattr(search, "check", None)
    if checker is not None:
        checker(queries, modes)
    depth = max(*ks, NDCG_K)
    report = EvalReport(ks)
    for mode in modes:
        if warmup:
            search(queries[0], mode, depth)
        for q in queries:
            started = time.perf_counter()
            hits = search(q, mode, depth)
            seconds = time.perf_counter() - started
            report.results.append(QueryResult(q, mode, tuple(judge(hits, q.relevant)), seconds))
    return report
