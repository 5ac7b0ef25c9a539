"""Single-process ingestion vs the Daft engine (local runner) on generated text PDFs.

Each engine runs as `mmrag ingest` in a fresh process into a fresh Milvus Lite
file, so model loading and memory are counted the same way for both. Reported
per engine: wall seconds of the whole command, the ingest seconds the report
gives (after the model is loaded on the driver), pages per second on both, and
peak RSS summed over the process tree (Daft's workers are child processes).

    PYTHONPATH=. .venv/bin/python benchmarks/ingest_engines.py            # 40 PDFs x 5 pages
    PYTHONPATH=. .venv/bin/python benchmarks/ingest_engines.py --quick    # 4 PDFs x 2 pages

Writes benchmarks/results/ingest_engines.json (or --out).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

WORDS = (
    "solar panel inverter battery grid demand revenue quarter coral reef bleaching ocean temperature "
    "honey bee hive colony queen pollen espresso grinder crema extraction roast turbine blade wind "
    "policy budget forecast margin customer shipment warehouse latency throughput cluster replica"
).split()


def make_corpus(root: Path, docs: int, pages: int, seed: int = 7) -> int:
    """``docs`` text PDFs of ``pages`` pages each (about 350 words a page); returns the page count."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    for d in range(docs):
        c = canvas.Canvas(str(root / f"report_{d:04d}.pdf"), pagesize=A4, invariant=1)
        c.setTitle(f"Report {d}")
        for p in range(pages):
            y = 800
            for line in range(50):
                words = " ".join(rng.choice(WORDS) for _ in range(7))
                c.drawString(40, y, f"{words.capitalize()}." if line % 3 == 2 else words)
                y -= 15
            c.showPage()
        c.save()
    return docs * pages


def run_engine(name: str, args: list[str], corpus: Path, workdir: Path) -> dict:
    store = workdir / f"{name}.db"
    cmd = [sys.executable, "-m", "mmrag.cli", "ingest", str(corpus), "--store", str(store), "--collection", "bench", "--json", *args]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "DAFT_PROGRESS_BAR": "0"}
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    root = psutil.Process(proc.pid)
    peak = 0
    while proc.poll() is None:
        try:
            tree = [root, *root.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
        except psutil.Error:
            pass
        time.sleep(0.05)
    out, err = proc.communicate()
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{name} failed ({proc.returncode}):\n{err[-3000:]}")
    # Daft's native teardown may print a line of its own to stdout: read the report object alone.
    report, _ = json.JSONDecoder().raw_decode(out[out.index("{\n"):])
    return {
        "engine": name,
        "command_args": args,
        "wall_seconds": round(wall, 2),
        "ingest_seconds": report["seconds"],
        "files_ingested": report["files_ingested"],
        "chunks_written": report["chunks_written"],
        "peak_rss_mib": round(peak / 2**20, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="4 PDFs x 2 pages, single vs daft with 1 worker")
    ap.add_argument("--docs", type=int, default=40)
    ap.add_argument("--pages", type=int, default=5)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "ingest_engines.json")
    a = ap.parse_args()
    docs, pages = (4, 2) if a.quick else (a.docs, a.pages)
    engines = [("single", [])] + [(f"daft_workers{n}", ["--engine", "daft", "--workers", str(n)]) for n in ((1,) if a.quick else (1, 2))]

    with tempfile.TemporaryDirectory(prefix="mmrag-bench-") as tmp:
        work = Path(tmp)
        total_pages = make_corpus(work / "corpus", docs, pages)
        results = [run_engine(name, args, work / "corpus", work) for name, args in engines]
    base = results[0]
    for r in results:
        r["pages_per_second_ingest"] = round(total_pages / r["ingest_seconds"], 2)
        r["pages_per_second_wall"] = round(total_pages / r["wall_seconds"], 2)
        r["speed_vs_single_ingest"] = round(base["ingest_seconds"] / r["ingest_seconds"], 2)
        r["rss_vs_single"] = round(r["peak_rss_mib"] / base["peak_rss_mib"], 2)
        assert r["chunks_written"] == base["chunks_written"], "engines disagree on the chunks"
    payload = {
        "benchmark": "ingest_engines",
        "corpus": {"pdfs": docs, "pages_per_pdf": pages, "pages": total_pages, "generator": "reportlab, ~350 words/page"},
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load_avg_at_end": os.getloadavg()},
        "results": results,
    }
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(payload, indent=2) + "\n")
    for r in results:
        print(
            f"{r['engine']:>14}: {r['pages_per_second_ingest']:7.2f} pages/s ingest ({r['speed_vs_single_ingest']}x single), "
            f"{r['pages_per_second_wall']:6.2f} pages/s wall, peak RSS {r['peak_rss_mib']:.0f} MiB ({r['rss_vs_single']}x)"
        )
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
