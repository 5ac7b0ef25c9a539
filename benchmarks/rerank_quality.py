"""Does reranking help? Jeopardy 1k: dense, BM25, hybrid (adaptive, the default),
and the MiniLM bi-encoder reranker over BM25's and over hybrid's candidates.

Same data, store and candidate lists as benchmarks/fusion_quality.py (cached in
benchmarks/.cache/; run that first or let this build them). Rerank scores come
from the cached document vectors, the same cosine ``BiEncoderReranker`` computes;
a sample of queries is reranked by the real ``BiEncoderReranker`` to check that
and to time it (50 candidates per query, CPU).

    PYTHONPATH=. .venv/bin/python benchmarks/rerank_quality.py

Writes benchmarks/results/rerank_quality.json.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import datasets  # noqa: E402
import fusion_quality as fq  # noqa: E402

from mmrag.embedding.sentence_transformer import SentenceTransformerEmbedder  # noqa: E402
from mmrag.reranking import BiEncoderReranker  # noqa: E402
from mmrag.retrieval.adaptive import AdaptiveParams  # noqa: E402
from mmrag.types import Chunk, Hit, Modality  # noqa: E402

RERANK_DEPTH = 50  # candidates handed to the reranker
TIMED_QUERIES = 20


def metrics(ranks: list[list[int]], relevant: list[frozenset[int]]) -> dict[str, float]:
    r1, r10, mrr = [], [], []
    for rl, rel in zip(ranks, relevant):
        pos = next((p for p, i in enumerate(rl[:10], start=1) if i in rel), None)
        r1.append(float(pos == 1))
        r10.append(float(pos is not None))
        mrr.append(1.0 / pos if pos else 0.0)
    return {"recall@1": round(float(np.mean(r1)), 4), "recall@10": round(float(np.mean(r10)), 4), "mrr@10": round(float(np.mean(mrr)), 4)}


def hits_for(ids: list[int], docs: list[str]) -> list[Hit]:
    return [
        Hit(Chunk(id=str(i), doc_id="jeopardy", source="jeopardy", modality=Modality.TEXT, text=docs[i]), 1.0 / (r + 1), {})
        for r, i in enumerate(ids)
    ]


def main() -> None:
    embedder = SentenceTransformerEmbedder()
    qs = datasets.load("jeopardy_1k")
    lists = fq.candidate_lists(qs, embedder)
    dvecs = fq.embed_cached(embedder, qs.docs, query=False)
    qvecs = fq.embed_cached(embedder, qs.queries, query=True)
    params = AdaptiveParams()

    def rerank_cached(q: int, ids: list[int]) -> list[int]:
        scores = dvecs[ids] @ qvecs[q]
        return [ids[j] for j in np.argsort(-scores, kind="stable")]

    runs: dict[str, list[list[int]]] = {"dense": [], "bm25": [], "hybrid_rrf60": [], "hybrid_adaptive": [],
                                        "bm25_then_biencoder_rerank": [], "hybrid_then_biencoder_rerank": []}
    for q, (lst, query) in enumerate(zip(lists, qs.queries)):
        methods = fq.run_methods(lst, query, qs.docs, params)
        runs["dense"].append(methods["dense"])
        runs["bm25"].append(methods["bm25"])
        runs["hybrid_rrf60"].append(methods["rrf60"])
        runs["hybrid_adaptive"].append(methods["adaptive"])
        runs["bm25_then_biencoder_rerank"].append(rerank_cached(q, methods["bm25"][:RERANK_DEPTH]))
        runs["hybrid_then_biencoder_rerank"].append(rerank_cached(q, methods["adaptive"][:RERANK_DEPTH]))
    table = {name: metrics(r, qs.relevant) for name, r in runs.items()}

    # The real reranker on a sample: same order as the cached cosines, and its latency.
    reranker = BiEncoderReranker(embedder=embedder)
    import torch

    step = len(qs.queries) // TIMED_QUERIES
    agree, latency = 0, {}
    # Timed at torch's default thread count and at one thread: on a shared 2-core machine the
    # default oversubscribes the cores and measures contention rather than the model.
    for threads in dict.fromkeys([torch.get_num_threads(), 1]):
        torch.set_num_threads(threads)
        reranker.rerank("warm up", hits_for(list(range(8)), qs.docs))
        timings = []
        for q in range(0, step * TIMED_QUERIES, step):
            ids = runs["hybrid_adaptive"][q][:RERANK_DEPTH]
            t0 = time.perf_counter()
            out = reranker.rerank(qs.queries[q], hits_for(ids, qs.docs))
            timings.append(time.perf_counter() - t0)
            agree += [int(h.chunk.id) for h in out][:10] == rerank_cached(q, ids)[:10]
        latency[f"torch_threads_{threads}"] = {
            "median_ms": round(1000 * statistics.median(timings), 1), "max_ms": round(1000 * max(timings), 1)
        }
    result = {
        "benchmark": "rerank_quality",
        "set": f"jeopardy_1k ({len(qs.queries)} questions, {len(qs.docs)} 'Category: Answer' documents)",
        "embedder_and_reranker": embedder.model_name,
        "store": "Milvus Lite; candidates 50 deep per retriever (as benchmarks/fusion_quality.py)",
        "rerank_depth": RERANK_DEPTH,
        "metrics": table,
        "real_reranker_check": f"{agree}/{TIMED_QUERIES * len(latency)} sampled reranks: BiEncoderReranker top 10 == cached-cosine top 10",
        "rerank_latency_50_candidates_cpu": {
            **latency,
            "queries": TIMED_QUERIES,
            "machine": f"{platform.machine()}, 2 cores shared with other jobs (load average {os.getloadavg()[0]:.1f})",
        },
    }
    out_path = fq.RESULTS / "rerank_quality.json"
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(result, indent=2) + "\n")
    for name, m in table.items():
        print(f"{name:30s} " + "  ".join(f"{k}={v:.3f}" for k, v in m.items()))
    print(f"rerank 50 candidates: {latency}; {result['real_reranker_check']}")
    print(f"wrote {out_path}")


if __name__ == "__main__":
    main()
