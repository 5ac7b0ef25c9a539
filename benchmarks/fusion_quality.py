"""Does hybrid search help? Recall@10 of dense, BM25 and each fusion on three sets.

Real MiniLM (the offline default embedder) and a real Milvus Lite file: every
set's documents are stored as chunks, and each query asks the store for its
per-retriever candidate lists (``MilvusStore.candidates``: dense cosine and BM25,
50 deep, the depth hybrid search uses by default). Every fusion then runs on the
same lists with the pure functions in ``mmrag.retrieval``, the code
``MilvusStore.search`` runs.

Sets (see benchmarks/datasets.py): Jeopardy 1k and 10k (dense strong, BM25
weak) and two Wikipedia known-item sets of exact 6- and 3-word phrases (BM25 strong).

The adaptive fusion has two constants. They are chosen on the *tune* half of
every set's queries (a fixed hash split) by the grid in ``tune()``; the table
reports the *held-out* half, and the whole set for reference.

    PYTHONPATH=. .venv/bin/python benchmarks/fusion_quality.py          # all sets
    PYTHONPATH=. .venv/bin/python benchmarks/fusion_quality.py --sets jeopardy_1k

Embeddings and candidate lists are cached in benchmarks/.cache/ (gitignored).
Writes benchmarks/results/fusion_quality.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import datasets  # noqa: E402  (benchmarks/datasets.py)

from mmrag.embedding.sentence_transformer import SentenceTransformerEmbedder  # noqa: E402
from mmrag.retrieval.adaptive import AdaptiveParams, adaptive  # noqa: E402
from mmrag.retrieval.fusion import rrf, weighted  # noqa: E402
from mmrag.stores.base import SearchMode, SearchRequest  # noqa: E402
from mmrag.stores.milvus import MilvusStore  # noqa: E402
from mmrag.types import Chunk, Modality  # noqa: E402

CACHE = Path(__file__).resolve().parent / ".cache"
RESULTS = Path(__file__).resolve().parent / "results"
SETS = ["jeopardy_1k", "jeopardy_10k", "wiki_known_item", "wiki_short_phrase"]
DEPTH = 50
K = 10

Lists = dict[str, list[tuple[int, float]]]  # retriever -> [(doc index, score)] best first


def _digest(texts: list[str]) -> str:
    return hashlib.sha256("\x1e".join(texts).encode("utf-8")).hexdigest()[:16]


def embed_cached(embedder: SentenceTransformerEmbedder, texts: list[str], *, query: bool) -> np.ndarray:
    """Vectors for ``texts``, from benchmarks/.cache when these exact texts were embedded before."""
    path = CACHE / f"emb_{'q' if query else 'd'}_{_digest(texts)}.npy"
    if path.exists():
        return np.load(path)
    t0 = time.perf_counter()
    vecs = embedder.embed_queries(texts) if query else embedder.embed_documents(texts)
    print(f"  embedded {len(texts)} {'queries' if query else 'documents'} in {time.perf_counter() - t0:.0f}s", flush=True)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path, vecs)
    return vecs


def candidate_lists(qs: datasets.QuerySet, embedder: SentenceTransformerEmbedder) -> list[Lists]:
    """Per query, the dense and BM25 candidate lists from a real Milvus Lite store (cached)."""
    path = CACHE / f"cands_{qs.name}_{_digest(qs.docs + qs.queries)}_{DEPTH}.json"
    if path.exists():
        return [{r: [tuple(x) for x in lst] for r, lst in q.items()} for q in json.loads(path.read_text())]
    dvecs = embed_cached(embedder, qs.docs, query=False)
    qvecs = embed_cached(embedder, qs.queries, query=True)
    db = CACHE / f"{qs.name}.db"
    for leftover in (db, Path(f"{db}.lock")):
        if leftover.is_dir():
            shutil.rmtree(leftover)
        else:
            leftover.unlink(missing_ok=True)
    store = MilvusStore(str(db), collection=qs.name)
    store.ensure_collection({"text": embedder.spec()})
    chunks = [Chunk(id=str(i), doc_id=qs.name, source=qs.name, modality=Modality.TEXT, text=d) for i, d in enumerate(qs.docs)]
    t0 = time.perf_counter()
    store.write_source(qs.name, chunks, {"text": dvecs}, keep=set())
    print(f"  stored {len(chunks)} chunks in Milvus Lite in {time.perf_counter() - t0:.0f}s", flush=True)
    out = batched_candidates(store, qs.queries, qvecs)
    # The batched calls must give what the store's own per-query method gives.
    for q, v, got in list(zip(qs.queries, qvecs, out))[:: max(1, len(qs.queries) // 20)]:
        req = SearchRequest(q, {"text": v}, k=K, mode=SearchMode.HYBRID, candidates=DEPTH)
        want = {r: [(int(h.chunk.id), h.score) for h in hits] for r, hits in store.candidates(req).items()}
        for r in want:
            # Same ranked scores (ids may swap where scores tie).
            assert np.allclose([x for _, x in want[r]], [x for _, x in got[r]], rtol=1e-5), f"{r} differs for {q!r}"
    store.close()
    path.write_text(json.dumps(out))
    return out


def batched_candidates(store: MilvusStore, queries: list[str], qvecs: np.ndarray, batch: int = 200) -> list[Lists]:
    """The searches ``MilvusStore.candidates`` runs (dense COSINE, BM25, ``DEPTH`` deep),
    issued ``batch`` queries per call and returning ids only: a per-query call with
    every field costs ~0.2 s here on two busy cores, 10k queries would take an hour."""
    out: list[Lists] = []
    t0 = time.perf_counter()
    for start in range(0, len(queries), batch):
        texts, vecs = queries[start : start + batch], qvecs[start : start + batch]
        dense = store.client.search(store.collection, data=vecs.tolist(), anns_field="dense_text", limit=DEPTH,
                                    output_fields=["id"], search_params={"metric_type": "COSINE"})
        bm25 = store.client.search(store.collection, data=texts, anns_field="sparse", limit=DEPTH,
                                   output_fields=["id"], search_params={"metric_type": "BM25"})
        for d, b in zip(dense, bm25):
            out.append({"dense": [(int(r["id"]), float(r["distance"])) for r in d],
                        "bm25": [(int(r["id"]), abs(float(r["distance"]))) for r in b]})
    print(f"  searched {len(queries)} queries in {time.perf_counter() - t0:.0f}s", flush=True)
    return out


def split(queries: list[str]) -> np.ndarray:
    """True for the tune half: a fixed hash of the query text, so it never depends on order."""
    return np.array([zlib.crc32(q.encode("utf-8")) % 2 == 0 for q in queries])


def ranked(scores: dict[int, float]) -> list[int]:
    return sorted(scores, key=lambda i: -scores[i])


def run_adaptive(lists: Lists, query: str, docs: list[str], params: AdaptiveParams) -> list[int]:
    top = docs[lists["bm25"][0][0]] if lists["bm25"] else None
    return ranked(adaptive(lists["dense"], lists["bm25"], top, query, params).scores)


def run_methods(lists: Lists, query: str, docs: list[str], params: AdaptiveParams) -> dict[str, list[int]]:
    dense = dict(lists["dense"])
    bm25 = dict(lists["bm25"])
    return {
        "dense": [i for i, _ in lists["dense"]],
        "bm25": [i for i, _ in lists["bm25"]],
        "rrf60": ranked(rrf([[i for i, _ in lists["dense"]], [i for i, _ in lists["bm25"]]], 60)),
        "weighted_0.7_0.3": ranked(weighted([dense, bm25], (0.7, 0.3))),
        "adaptive": run_adaptive(lists, query, docs, params),
    }


def recall_at(rank_list: list[int], relevant: frozenset[int], k: int = K) -> float:
    return float(any(i in relevant for i in rank_list[:k]))


@dataclass
class SetRun:
    qs: datasets.QuerySet
    lists: list[Lists]
    tune_mask: np.ndarray


def evaluate(run: SetRun, mask: np.ndarray, params: AdaptiveParams) -> dict[str, float]:
    sums: dict[str, float] = {}
    for lists, query, rel, keep in zip(run.lists, run.qs.queries, run.qs.relevant, mask):
        if keep:
            for name, rl in run_methods(lists, query, run.qs.docs, params).items():
                sums[name] = sums.get(name, 0.0) + recall_at(rl, rel)
    return {name: round(s / int(mask.sum()), 4) for name, s in sums.items()}


def adaptive_recall(run: SetRun, params: AdaptiveParams) -> float:
    return float(np.mean([
        recall_at(run_adaptive(lists, q, run.qs.docs, params), rel)
        for lists, q, rel, m in zip(run.lists, run.qs.queries, run.qs.relevant, run.tune_mask) if m
    ]))


def tune(runs: dict[str, SetRun]) -> tuple[AdaptiveParams, list[dict]]:
    """Pick the constants on the tune halves: maximise the worst per-set margin to the
    better single retriever (the 'never hurts' goal), ties broken by mean recall."""
    singles = {}
    for name, run in runs.items():
        pairs = [(l, r) for l, r, m in zip(run.lists, run.qs.relevant, run.tune_mask) if m]
        singles[name] = max(np.mean([recall_at([i for i, _ in l[ret]], r) for l, r in pairs]) for ret in ("dense", "bm25"))
    best, best_key, grid = None, None, []
    for exponent in (1.0, 2.0, 3.0, 4.0, 6.0):
        for cap in (0.5, 0.6, 0.7, 0.8, 0.9, 1.0):
            params = AdaptiveParams(exponent=exponent, cap=cap)
            recalls = {name: adaptive_recall(run, params) for name, run in runs.items()}
            margin = min(recalls[n] - singles[n] for n in recalls)
            key = (round(margin, 4), round(float(np.mean(list(recalls.values()))), 4))
            grid.append({"exponent": exponent, "cap": cap, "worst_margin": key[0], "mean_recall": key[1]})
            if best_key is None or key > best_key:
                best, best_key = params, key
    assert best is not None
    return best, grid


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", nargs="+", default=SETS, choices=SETS)
    parser.add_argument("--out", default=str(RESULTS / "fusion_quality.json"))
    args = parser.parse_args()
    embedder = SentenceTransformerEmbedder()
    runs = {}
    for name in args.sets:
        print(f"{name}:", flush=True)
        qs = datasets.load(name)
        runs[name] = SetRun(qs, candidate_lists(qs, embedder), split(qs.queries))
    params, grid = tune(runs)
    print(f"chosen on the tune halves: {params}", flush=True)
    table = {}
    for name, run in runs.items():
        held = evaluate(run, ~run.tune_mask, params)
        full = evaluate(run, np.ones_like(run.tune_mask), params)
        table[name] = {"docs": len(run.qs.docs), "queries": len(run.qs.queries), "held_out_queries": int((~run.tune_mask).sum()),
                       "recall@10_held_out": held, "recall@10_all": full}
        best_single = max(held["dense"], held["bm25"])
        print(f"  {name:16s} held-out " + "  ".join(f"{k}={v:.3f}" for k, v in held.items())
              + f"  adaptive-best_single={held['adaptive'] - best_single:+.3f}")
    result = {
        "benchmark": "fusion_quality",
        "metric": "recall@10 (a hit if any relevant document is in the top 10)",
        "embedder": embedder.model_name,
        "store": f"Milvus Lite (the searches of MilvusStore.candidates: dense COSINE + BM25, {DEPTH} deep each)",
        "adaptive_params": {"exponent": params.exponent, "cap": params.cap},
        "tuning": "constants chosen on the tune half of every set (crc32(query) even); held_out figures are the other half",
        "tuning_grid": grid,
        "sets": table,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
