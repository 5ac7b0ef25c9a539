"""Late interaction first stage: MUVERA encodings vs the mean-pooled vector, against
exhaustive MaxSim, for ColPali-sized pages (1030 x 128-d token vectors).

    PYTHONPATH=. .venv/bin/python benchmarks/late_first_stage.py            # 500 and 10,000 pages (minutes)
    PYTHONPATH=. .venv/bin/python benchmarks/late_first_stage.py --quick    # seconds
    PYTHONPATH=. .venv/bin/python benchmarks/late_first_stage.py --store --pages 500     # through MilvusStore
    PYTHONPATH=. .venv/bin/python benchmarks/late_first_stage.py --store --pages 10000 --sides sidecar

What is measured, per collection size:
- recall@10 of the late search (first stage: top 100 by the first-stage vector;
  then exact MaxSim on those 100) against exhaustive MaxSim over every page, for
  the mean-pooled vector (today's first stage) and for MUVERA encodings;
- p50 latency of the late query without the token read: query encoding, the
  first-stage search (numpy brute force over the encodings; and, at 500 pages,
  an ANN search over them in Milvus Lite) and exact MaxSim over the 100
  candidates' token vectors held in memory;
- encoding time per page.

With ``--store``: the late search through ``MilvusStore`` on a Milvus Lite file, end to
end (query encoding, MUVERA first stage, reading the candidates' token vectors, MaxSim),
top 100 reranked, p50 and recall@10 against exhaustive MaxSim, side by side on the same
pages and queries (interleaved): token vectors in the store's SQLite sidecar (float16,
the default now) and as token rows in Lite, 32 per row (the default before it), with
load time and disk per page. ``--sides sidecar`` runs one side (for 10,000 pages).
``maxsim_only_p50_ms`` is the MaxSim arithmetic over 100 pages alone, for scale.

Pages are random but clustered (each page's tokens sit around 8 of 256 topic
centres, as patches of one page share content); a query is 20 noisy tokens of one
page. Token matrices are regenerated from a per-page seed instead of being kept
(10,000 pages would be 5 GB), so only the encodings stay in memory.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import dir_bytes, save_json  # noqa: E402

import numpy as np

from mmrag.embedding.base import l2_normalize
from mmrag.embedding.maxsim import maxsim
from mmrag.embedding.muvera import Muvera, MuveraParams

DIM, TOKENS, QUERY_TOKENS, CANDIDATES, CENTRES = 128, 1030, 20, 100, 256


def page(i: int, centres: np.ndarray, tokens: int) -> np.ndarray:
    rng = np.random.default_rng(1000 + i)
    topics = rng.choice(len(centres), 8, replace=False)
    noise = 0.5 * rng.standard_normal((tokens, DIM)).astype(np.float32) / np.sqrt(DIM)
    return l2_normalize(centres[rng.choice(topics, tokens)] + noise).astype(np.float32)


def query(doc: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    noise = 0.3 * rng.standard_normal((QUERY_TOKENS, DIM)).astype(np.float32) / np.sqrt(DIM)
    return l2_normalize(doc[rng.choice(len(doc), QUERY_TOKENS)] + noise).astype(np.float32)


def pct(values: list[float], q: float) -> float:
    return round(float(np.percentile(values, q)) * 1000.0, 3)


def lite_top(vectors: np.ndarray, queries: list[np.ndarray], limit: int) -> tuple[list[list[int]], list[float]]:
    """Top ``limit`` ids per query from an HNSW (AUTOINDEX) search in a Milvus Lite file, with each search's time."""
    import pymilvus

    with tempfile.TemporaryDirectory() as tmp:
        no_pings = {"grpc.keepalive_permit_without_calls": 0, "grpc.keepalive_time_ms": 3_600_000}  # as MilvusStore
        client = pymilvus.MilvusClient(str(Path(tmp) / "fde.db"), grpc_options=no_pings)
        schema = client.create_schema(auto_id=False)
        schema.add_field("id", pymilvus.DataType.INT64, is_primary=True)
        schema.add_field("fde", pymilvus.DataType.FLOAT_VECTOR, dim=vectors.shape[1])
        index = client.prepare_index_params()
        index.add_index("fde", index_type="AUTOINDEX", metric_type="IP")
        client.create_collection("fde", schema=schema, index_params=index)
        for s in range(0, len(vectors), 500):
            client.insert("fde", [{"id": s + i, "fde": v.tolist()} for i, v in enumerate(vectors[s : s + 500])])
        client.flush("fde")
        ids, times = [], []
        for q in queries:
            t = time.perf_counter()
            res = client.search("fde", data=[q.tolist()], anns_field="fde", limit=limit, search_params={"metric_type": "IP"})
            times.append(time.perf_counter() - t)
            ids.append([int(r["id"]) for r in res[0]])
        client.close()
    return ids, times


def run(pages: int, configs: dict[str, MuveraParams | None], n_queries: int, tokens: int, with_lite: bool) -> dict:
    rng = np.random.default_rng(pages)
    centres = l2_normalize(rng.standard_normal((CENTRES, DIM))).astype(np.float32)
    encoders = {name: Muvera(p) for name, p in configs.items() if p is not None}
    first = {name: np.empty((pages, e.output_dim), dtype=np.float32) for name, e in encoders.items()}
    first["mean_pooled"] = np.empty((pages, DIM), dtype=np.float32)
    encode_s = dict.fromkeys(first, 0.0)
    sources = rng.choice(pages, n_queries, replace=False)
    queries: list[np.ndarray] = [np.empty(0)] * n_queries
    exact = np.empty((n_queries, pages), dtype=np.float32)
    started = time.perf_counter()
    for i in range(pages):
        doc = page(i, centres, tokens)
        for name, enc in encoders.items():
            t = time.perf_counter()
            first[name][i] = enc.encode_document(doc)
            encode_s[name] += time.perf_counter() - t
        first["mean_pooled"][i] = l2_normalize(doc.mean(axis=0))
        for j in np.flatnonzero(sources == i):
            queries[j] = query(doc, rng)
    sims_s = time.perf_counter() - started
    for i in range(pages):  # exhaustive MaxSim: every query against every page
        doc = page(i, centres, tokens)
        exact[:, i] = [float(maxsim(q, [doc])[0]) for q in queries]
    truth = [set(np.argsort(-row, kind="stable")[:10]) for row in exact]
    out: dict = {"pages": pages, "tokens_per_page": tokens, "dim": DIM, "queries": n_queries, "candidates": CANDIDATES,
                 "generate_and_encode_seconds": round(sims_s, 1), "first_stage": {}}
    for name, matrix in first.items():
        enc = encoders.get(name)
        recalls, cand_recalls, times = [], [], []
        for q, want in zip(queries, truth):
            t = time.perf_counter()
            qv = enc.encode_query(q) if enc else l2_normalize(q.mean(axis=0))
            cand = np.argpartition(-(matrix @ qv), CANDIDATES)[:CANDIDATES]
            first_s = time.perf_counter() - t
            docs = [page(int(c), centres, tokens) for c in cand]  # the token read: not timed
            t = time.perf_counter()
            scores = maxsim(q, docs)
            got = set(cand[np.argsort(-scores, kind="stable")[:10]].tolist())
            times.append(first_s + time.perf_counter() - t)
            recalls.append(len(got & want) / 10)
            cand_recalls.append(len(set(cand.tolist()) & want) / 10)
        row = {
            "vector_dim": int(matrix.shape[1]),
            "params": configs[name].to_json() if enc else None,
            "recall_at_10_vs_exhaustive": round(float(np.mean(recalls)), 4),
            "candidate_recall_top10_in_100": round(float(np.mean(cand_recalls)), 4),
            "late_p50_ms_without_token_read": pct(times, 50),
            "late_p95_ms_without_token_read": pct(times, 95),
            "encode_ms_per_page": round(encode_s[name] / pages * 1000, 3),
        }
        if with_lite and enc:
            ids, lite_times = lite_top(matrix, [enc.encode_query(q) for q in queries], CANDIDATES)
            row["lite_ann_p50_ms"] = pct(lite_times, 50)
            row["lite_candidate_recall_top10_in_100"] = round(
                float(np.mean([len(set(i) & w) / 10 for i, w in zip(ids, truth)])), 4)
        out["first_stage"][name] = row
    return out


def load_store(store, pages: int, centres: np.ndarray, tokens: int, per_source: int = 25) -> float:
    """Write ``pages`` pages (regenerated from their seeds) source by source; seconds taken."""
    from mmrag.embedding.base import EmbedderSpec
    from mmrag.types import Chunk, Modality

    store.ensure_collection({"pages": EmbedderSpec("random-colpali", DIM, multivector=True)})
    started = time.perf_counter()
    for s in range(0, pages, per_source):
        doc = f"deck{s // per_source}"
        ids = range(s, min(s + per_source, pages))
        chunks = [Chunk(f"p{i}", doc, f"decks/{doc}.pdf", Modality.TEXT, f"page {i}", page=i - s + 1) for i in ids]
        store.write_source(doc, chunks, {"pages": [page(i, centres, tokens) for i in ids]}, keep={c.id for c in chunks})
    store.flush()
    return time.perf_counter() - started


SIDES = {"sidecar": "sidecar", "lite_rows": "rows"}  # side name -> MilvusStore token_store


def store_run(pages: int, n_queries: int, tokens: int, sides: list[str]) -> dict:
    """The late search through MilvusStore (MUVERA first stage): token vectors in the
    store's SQLite sidecar (float16, today's default) vs packed token rows in Milvus
    Lite (the default before it), same pages and queries."""
    from mmrag.stores import SearchMode, SearchRequest
    from mmrag.stores.milvus import MilvusStore
    from mmrag.stores.milvus.sidecar import SIDECAR_FILE

    rng = np.random.default_rng(pages)
    centres = l2_normalize(rng.standard_normal((CENTRES, DIM))).astype(np.float32)
    sources = rng.choice(pages, n_queries + 1, replace=False)  # the first query warms up
    queries = [query(page(int(i), centres, tokens), rng) for i in sources]
    exact = np.empty((len(queries), pages), dtype=np.float32)
    for i in range(pages):
        doc = page(i, centres, tokens)
        exact[:, i] = [float(maxsim(q, [doc])[0]) for q in queries]
    truth = [{f"p{i}" for i in np.argsort(-row, kind="stable")[:10]} for row in exact]
    out: dict = {"pages": pages, "tokens_per_page": tokens, "dim": DIM, "queries": n_queries, "candidates": CANDIDATES,
                 "sides": {}}
    with tempfile.TemporaryDirectory() as tmp:
        stores = {name: MilvusStore(str(Path(tmp) / f"{name}.db"), "late", token_store=SIDES[name]) for name in sides}
        for name, store in stores.items():
            load_s = load_store(store, pages, centres, tokens)
            stored = sum(s.chunks for s in store.sources())
            if stored != pages:
                raise SystemExit(f"side {name}: {stored} of {pages} pages stored; no time is reported for it")
            folder = Path(tmp) / f"{name}.db"
            out["sides"][name] = {"token_store": store.token_store, "load_seconds": round(load_s, 1),
                                  "disk_bytes_per_page": int(dir_bytes(folder) / pages),
                                  "sidecar_bytes_per_page": int(sqlite_bytes(folder / SIDECAR_FILE) / pages)}
        times: dict[str, list[float]] = {name: [] for name in stores}
        recalls: dict[str, list[float]] = {name: [] for name in stores}
        for n, (q, want) in enumerate(zip(queries, truth)):
            order = list(stores.items())
            for name, store in order if n % 2 else reversed(order):  # alternate who goes first
                t = time.perf_counter()
                hits = store.search(SearchRequest("", {"pages": q}, k=10, mode=SearchMode.LATE, candidates=CANDIDATES))
                elapsed = time.perf_counter() - t
                if len(hits) != 10:
                    raise SystemExit(f"side {name}: a late search returned {len(hits)} hits, not 10")
                if n:
                    times[name].append(elapsed)
                    recalls[name].append(len({h.chunk.id for h in hits} & want) / 10)
        for name, store in stores.items():
            out["sides"][name] |= {"late_p50_ms": pct(times[name], 50), "late_p95_ms": pct(times[name], 95),
                                   "recall_at_10_vs_exhaustive": round(float(np.mean(recalls[name])), 4)}
            store.close()
    docs = [page(i, centres, tokens) for i in range(min(CANDIDATES, pages))]
    scoring = []
    for q in queries:
        t = time.perf_counter()
        maxsim(q, docs)
        scoring.append(time.perf_counter() - t)
    out["maxsim_only_p50_ms"] = pct(scoring, 50)
    if set(sides) == set(SIDES):
        a, b = out["sides"]["sidecar"], out["sides"]["lite_rows"]
        out["p50_ratio_sidecar_vs_lite_rows"] = round(a["late_p50_ms"] / b["late_p50_ms"], 4)
        out["load_ratio_sidecar_vs_lite_rows"] = round(a["load_seconds"] / b["load_seconds"], 3)
    return out


def sqlite_bytes(path: Path) -> int:
    """Bytes of a SQLite file with its WAL (0 when there is none)."""
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*") if p.is_file())


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="tiny sizes: runs in seconds")
    ap.add_argument("--queries", type=int, default=30)
    ap.add_argument("--store", action="store_true",
                    help="through MilvusStore on Milvus Lite: token vectors in the SQLite sidecar vs token rows")
    ap.add_argument("--sides", default=",".join(SIDES),
                    help=f"with --store: comma-separated, of {', '.join(SIDES)} (lite_rows loads for hours at 10,000 pages)")
    ap.add_argument("--pages", type=int, default=500, help="with --store: pages in the collection")
    ap.add_argument("--out", type=Path, default=None,
                    help="default benchmarks/results/late_first_stage.json (--store: late_first_stage_store.json)")
    args = ap.parse_args(argv)
    name = "late_first_stage_store.json" if args.store else "late_first_stage.json"
    args.out = args.out or Path("benchmarks/results") / name
    if args.store:
        return store_main(args)
    default = MuveraParams(dim=DIM, repetitions=20, simhash_bits=5, projection_dim=16, final_dim=2048)
    wide = MuveraParams(dim=DIM, repetitions=20, simhash_bits=5, projection_dim=16, final_dim=None)
    if args.quick:
        sizes, tokens, n_queries = [(150, {"muvera": default, "mean_pooled": None}, True)], 64, 5
    else:
        sizes = [(500, {"muvera": default, "muvera_10240": wide, "mean_pooled": None}, True),
                 (10_000, {"muvera": default, "mean_pooled": None}, False)]
        tokens, n_queries = TOKENS, args.queries
    load_start = os.getloadavg()[0]
    started = time.perf_counter()
    runs = [run(n, configs, n_queries, tokens, lite) for n, configs, lite in sizes]
    result = {
        "benchmark": "late_first_stage",
        "machine": f"{platform.machine()} {platform.processor() or ''} python {platform.python_version()}".strip(),
        "load_average_1min_at_start_and_end": [round(load_start, 2), round(os.getloadavg()[0], 2)],
        "runs": runs,
        "seconds": round(time.perf_counter() - started, 1),
        "note": "latency excludes reading the candidates' token vectors from a store (held in memory here); "
        "first stage is numpy brute force over the encodings; 'lite_ann_p50_ms' is the same first stage as an "
        "HNSW search in Milvus Lite",
        "quick": args.quick,
    }
    save_json(args.out, result)


def store_main(args: argparse.Namespace) -> None:
    pages, tokens, n_queries = (120, 64, 4) if args.quick else (args.pages, TOKENS, args.queries)
    load_start = os.getloadavg()[0]
    started = time.perf_counter()
    sides = [s for s in args.sides.split(",") if s]
    if not sides or set(sides) - set(SIDES):
        raise SystemExit(f"--sides takes names of {', '.join(SIDES)}, got {args.sides!r}")
    run_ = store_run(pages, n_queries, tokens, sides)
    save_json(args.out, {
        "benchmark": "late_first_stage_store",
        "machine": f"{platform.machine()} {platform.processor() or ''} python {platform.python_version()}".strip(),
        "load_average_1min_at_start_and_end": [round(load_start, 2), round(os.getloadavg()[0], 2)],
        "run": run_,
        "seconds": round(time.perf_counter() - started, 1),
        "goal": "late_p50_ms <= 150 and recall_at_10_vs_exhaustive >= 0.95 at 500 pages of 1030 x 128",
        "note": "end to end through MilvusStore.search on Milvus Lite (MUVERA first stage): query encoding, first "
        "stage, the candidates' token vectors read back (sidecar: float16 blobs from SQLite; lite_rows: 32 per row "
        "from Lite), MaxSim; the sides hold the same pages and run the same queries, alternating who goes first",
        "quick": args.quick,
    })


if __name__ == "__main__":
    main()
