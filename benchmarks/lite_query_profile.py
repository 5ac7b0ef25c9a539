"""Where a Milvus Lite query spends its time: a py-spy profile of hybrid, dense and
BM25 searches through ``MilvusStore`` on an N-chunk collection whose indexes are
all built (HNSW on every segment, the BM25 inverted index prepared).

    PYTHONPATH=. .venv/bin/python benchmarks/lite_query_profile.py                # 100k chunks (build ~5 min)
    PYTHONPATH=. .venv/bin/python benchmarks/lite_query_profile.py --quick        # seconds
    ... --db /tmp/lite100k.db   # keep the built collection and reuse it on the next run

Milvus Lite 3.x runs in-process (pure Python, faiss for HNSW), so py-spy sees its
server threads. The report gives each Lite function's share of the samples taken
inside a search, the per-mode p50 and the Lite version. Needs ``py-spy`` (the
``bench`` extra); without it the latencies are still reported.
"""

from __future__ import annotations

import argparse
import collections
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import save_json  # noqa: E402

import numpy as np

DIM, PER_SOURCE = 384, 500


def build_or_open(path: Path, chunks: int):
    from mmrag.embedding.base import EmbedderSpec, l2_normalize
    from mmrag.stores.milvus import MilvusStore
    from mmrag.types import Chunk, Modality

    fresh = not path.exists()
    store = MilvusStore(str(path), "bench")
    if fresh:
        rng = np.random.default_rng(0)
        words = [f"w{i}" for i in range(3000)]
        store.ensure_collection({"text": EmbedderSpec("random-unit", DIM)})
        for s in range(0, chunks, PER_SOURCE):
            doc = f"doc{s // PER_SOURCE}"
            part = [Chunk(f"{doc}-{i}", doc, f"a/{doc}.pdf", Modality.TEXT, " ".join(rng.choice(words, 60)), page=1)
                    for i in range(min(PER_SOURCE, chunks - s))]
            store.write_source(doc, part, {"text": l2_normalize(rng.standard_normal((len(part), DIM)))},
                               keep={c.id for c in part})
            if (s // PER_SOURCE) % 20 == 19:
                store.flush()
        store.flush()
    store.spaces()
    # Release + load builds every segment's index synchronously (Lite otherwise
    # builds them on a background thread after each flush).
    store.client.release_collection("bench")
    store.client.load_collection("bench")
    return store


def child(args: argparse.Namespace) -> None:
    """Run searches for ``args.seconds``; print per-mode p50 as JSON."""
    from mmrag.embedding.base import l2_normalize
    from mmrag.stores import SearchMode, SearchRequest

    store = build_or_open(args.db, args.chunks)
    rng = np.random.default_rng(1)
    words = [f"w{i}" for i in range(3000)]
    modes = {"hybrid_rrf": (SearchMode.HYBRID, "rrf"), "dense": (SearchMode.DENSE, "rrf"), "bm25": (SearchMode.BM25, "rrf")}
    for mode, fusion in modes.values():  # warm-up: prepares each segment's BM25 index once
        store.search(SearchRequest("w1 w2", {"text": l2_normalize(rng.standard_normal(DIM))}, k=10, mode=mode, fusion=fusion))
    print("ready", flush=True)  # the parent starts py-spy now, so one-time preparation is not in the profile
    time.sleep(1.0)
    times: dict[str, list[float]] = {m: [] for m in modes}
    end = time.perf_counter() + args.seconds
    while time.perf_counter() < end:
        vec, text = l2_normalize(rng.standard_normal(DIM)), " ".join(rng.choice(words, 4))
        for name, (mode, fusion) in modes.items():
            t = time.perf_counter()
            store.search(SearchRequest(text, {"text": vec}, k=10, mode=mode, fusion=fusion))
            times[name].append(time.perf_counter() - t)
    rows = store.client.query("bench", filter="", output_fields=["count(*)"])[0]["count(*)"]
    store.close()
    print(json.dumps({"rows": rows, "queries_per_mode": len(times["dense"]),
                      "p50_ms": {m: round(float(np.median(v)) * 1000, 1) for m, v in times.items()}}))


def summarise(raw: Path, top: int = 12) -> dict:
    """Shares of py-spy samples inside Lite's search handlers: by function (inclusive) and by line (self)."""
    own: collections.Counter = collections.Counter()
    incl: collections.Counter = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        frames = stack.split(";")
        if not any("Servicer.Search" in f or "Servicer.HybridSearch" in f for f in frames):
            continue
        total += int(n)
        own[frames[-1]] += int(n)
        for f in {f.split(" (")[0] for f in frames if "milvus_lite/" in f}:
            incl[f] += int(n)
    share = lambda c: {k: round(v / total, 3) for k, v in c.most_common(top)}  # noqa: E731
    return {"search_samples": total, "self_by_line": share(own), "inclusive_by_function": share(incl)}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="2,000 chunks, 3 s of queries")
    ap.add_argument("--chunks", type=int, default=100_000)
    ap.add_argument("--seconds", type=float, default=40.0)
    ap.add_argument("--db", type=Path, help="Lite file to build once and reuse (default: a temporary one)")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/lite_query_profile.json"))
    args = ap.parse_args(argv)
    if args.quick:
        args.chunks, args.seconds = 2000, 3.0
    if args.child:
        return child(args)
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or Path(tmp) / "profile.db"
        cmd = [sys.executable, __file__, "--child", "--db", str(db), "--chunks", str(args.chunks), "--seconds", str(args.seconds)]
        spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        raw = Path(tmp) / "profile.raw"
        load = os.getloadavg()[0]
        profiled = Path(spy).exists()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        try:
            assert proc.stdout is not None
            while (line := proc.stdout.readline()) and line.strip() != "ready":
                pass
            if profiled:
                subprocess.run([spy, "record", "-r", "50", "-f", "raw", "-o", str(raw), "-d", str(int(args.seconds)),
                                "-p", str(proc.pid)], capture_output=True, check=True, timeout=args.seconds + 120)
            out, _ = proc.communicate(timeout=600)
        finally:
            if proc.poll() is None:
                proc.kill()
        if proc.returncode:
            raise SystemExit(f"the query process failed (exit {proc.returncode})")
        timing = json.loads(out.strip().splitlines()[-1])
        result = {
            "benchmark": "lite_query_profile",
            "milvus_lite": importlib.metadata.version("milvus-lite"),
            "pymilvus": importlib.metadata.version("pymilvus"),
            **timing,
            "load_average_1min_at_start_and_end": [round(load, 2), round(os.getloadavg()[0], 2)],
            "profile": summarise(raw) if profiled and raw.exists() else "py-spy not installed",
            "quick": args.quick,
        }
    save_json(args.out, result)


if __name__ == "__main__":
    main()
