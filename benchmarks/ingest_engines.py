"""Single-process ingestion vs the Daft engine, on Daft's local runner and on a
local Ray cluster, on generated text PDFs.

Each engine runs as `mmrag ingest` in a fresh process into a fresh Milvus Lite
file, so model loading and memory are counted the same way for all. The Ray
rows run on a Ray head this script starts on 127.0.0.1 (`ray start --head
--block` in its own process group, stopped at the end; no other cluster is
touched). Reported per engine: wall seconds of the whole command, the ingest
seconds the report gives (after the model is loaded on the driver), pages per
second on both, and memory: the peak of RSS summed over every process of the
run, sampled together (the command's tree, and for Ray the head's whole tree:
GCS, raylet and every worker), the peak of the Ray worker processes alone, the
head's RSS idle before the run, and the peak PSS sum (shared pages such as
Ray's object store counted once). The Daft rows also give the seconds the
driver spent writing, the one serial stage on Milvus Lite, and from it the
bound on N workers (Amdahl).

    PYTHONPATH=. .venv/bin/python benchmarks/ingest_engines.py            # 40 PDFs x 5 pages, ~5 min idle
    PYTHONPATH=. .venv/bin/python benchmarks/ingest_engines.py --quick    # 4 PDFs x 2 pages

Writes benchmarks/results/ingest_engines.json (or --out).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import signal
import socket
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


def tree(root: psutil.Process) -> list[psutil.Process]:
    try:
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def memory(procs: list[psutil.Process], pss: bool) -> tuple[int, int, int]:
    """(RSS sum, RSS sum of Ray's worker processes, PSS sum or 0) of ``procs`` now."""
    rss = workers = shared = 0
    for p in procs:
        try:
            mem = p.memory_full_info() if pss else p.memory_info()
            title = p.cmdline()[:1]
        except psutil.Error:  # ended between the listing and the read
            continue
        rss += mem.rss
        shared += getattr(mem, "pss", 0)
        if title and title[0].startswith("ray::"):  # Ray retitles its worker processes ray::IDLE, ray::_Embed...
            workers += mem.rss
    return rss, workers, shared


class RayHead:
    """A Ray head on 127.0.0.1 in its own process group: stopping it ends this cluster only."""

    def __init__(self, cpus: int) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.temp = Path(tempfile.mkdtemp(prefix="mmrag-ray-", dir="/tmp"))  # Ray's socket paths must fit 107 bytes
        ray = str(Path(sys.executable).with_name("ray"))
        cmd = [ray, "start", "--head", f"--port={self.port}", "--node-ip-address=127.0.0.1", f"--num-cpus={cpus}",
               "--include-dashboard=false", "--disable-usage-stats", f"--temp-dir={self.temp}", "--block"]
        self.log = (self.temp / "start.log").open("w")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True, env=ENV)
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"ray start exited ({self.proc.returncode}): see {self.temp / 'start.log'}")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    time.sleep(3)  # the GCS answers before the raylet has registered
                    return
            time.sleep(0.5)
        self.stop()
        raise SystemExit(f"no Ray head on port {self.port} after 240 s")

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        for sig, wait in ((signal.SIGTERM, 60), (signal.SIGKILL, 30)):
            try:
                os.killpg(self.proc.pid, sig)
                self.proc.wait(timeout=wait)
                break
            except ProcessLookupError:
                break
            except subprocess.TimeoutExpired:
                continue
        self.log.close()
        shutil.rmtree(self.temp, ignore_errors=True)


ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "DAFT_PROGRESS_BAR": "0"}


def run_engine(name: str, args: list[str], corpus: Path, workdir: Path, head: RayHead | None = None) -> dict:
    store = workdir / f"{name}.db"
    cmd = [sys.executable, "-m", "mmrag.cli", "ingest", str(corpus), "--store", str(store), "--collection", "bench", "--json", *args]
    cluster = psutil.Process(head.proc.pid) if head else None
    idle = memory(tree(cluster), pss=False)[0] if cluster else 0
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    root = psutil.Process(proc.pid)
    peak = peak_workers = peak_pss = 0
    samples = 0
    while proc.poll() is None:
        procs = tree(root) + (tree(cluster) if cluster else [])
        rss, workers, pss = memory(procs, pss=samples % 5 == 0)  # PSS reads smaps: every fifth sample
        peak, peak_workers, peak_pss = max(peak, rss), max(peak_workers, workers), max(peak_pss, pss)
        samples += 1
        time.sleep(0.05)
    out, err = proc.communicate()
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{name} failed ({proc.returncode}):\n{err[-3000:]}")
    # Daft's native teardown may print a line of its own to stdout: read the report object alone.
    report, _ = json.JSONDecoder().raw_decode(out[out.index("{\n"):])
    if report["chunks_written"] == 0 or report["files_failed"]:
        raise SystemExit(f"{name} stored {report['chunks_written']} chunks with {report['files_failed']} failures: nothing to time")
    return {
        "engine": name,
        "runner": "ray" if head else ("daft-local" if "daft" in args else "one process"),
        "command_args": args,
        "wall_seconds": round(wall, 2),
        "ingest_seconds": report["seconds"],
        "driver_write_seconds": report["driver_write_seconds"],
        "files_ingested": report["files_ingested"],
        "chunks_written": report["chunks_written"],
        "peak_rss_mib": round(peak / 2**20, 1),
        "peak_ray_worker_rss_mib": round(peak_workers / 2**20, 1) if head else None,
        "ray_head_idle_rss_mib": round(idle / 2**20, 1) if head else None,
        "peak_pss_mib": round(peak_pss / 2**20, 1),
        "memory_samples": samples,
    }


def design_note(results: list[dict]) -> dict:
    """What the Daft design gives on N workers, from the measured serial share
    (the driver's writes; the walk, the manifest look-ups and the model load on
    the driver come on top and are in wall_seconds, not ingest_seconds)."""
    note: dict = {
        "text": (
            "Workers load and chunk (one tokenizer each) and embed (one model each, an actor per worker on Ray); "
            "the driver walks, triages by the manifest and, on Milvus Lite, writes every source with commit_many. "
            "With T the ingest seconds and S the driver's write seconds of a run, N workers give at most "
            "T / (S + (T - S) / N) (Amdahl), and never more than T / S: past that the driver's commit is the "
            "bottleneck. On a Milvus server the writes run on the workers too (commit_many per batch, one client "
            "each), so the serial part is the driver's walk and manifest look-ups only. On 2 cores a second "
            "worker competes with the first for the same cores, so the rows here measure overhead, not scale-out."
        ),
        "bound_by_engine": {},
    }
    for r in results:
        t, serial = r["ingest_seconds"], r["driver_write_seconds"]
        if serial is None or serial <= 0:
            continue
        note["bound_by_engine"][r["engine"]] = {
            "serial_share": round(serial / t, 3),
            "max_speedup_vs_this_row": {str(n): round(t / (serial + (t - serial) / n), 2) for n in (2, 4, 8, 16)},
            "max_speedup_any_n": round(t / serial, 1),
        }
    return note


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="4 PDFs x 2 pages: single, Daft local and Ray with 1 worker")
    ap.add_argument("--docs", type=int, default=40)
    ap.add_argument("--pages", type=int, default=5)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "ingest_engines.json")
    a = ap.parse_args()
    docs, pages = (4, 2) if a.quick else (a.docs, a.pages)
    daft = ["--engine", "daft", "--workers"]
    local = [("single", []), ("daft_workers1", [*daft, "1"])]
    on_ray = [(f"ray_workers{n}", [*daft, str(n)]) for n in ((1,) if a.quick else (1, 2))]
    load_before = os.getloadavg()

    with tempfile.TemporaryDirectory(prefix="mmrag-bench-") as tmp:
        work = Path(tmp)
        total_pages = make_corpus(work / "corpus", docs, pages)
        results = [run_engine(name, args, work / "corpus", work) for name, args in local]
        head = RayHead(cpus=os.cpu_count() or 2)
        try:
            results += [run_engine(name, [*args, "--ray-address", head.address], work / "corpus", work, head) for name, args in on_ray]
        finally:
            head.stop()
    base = results[0]
    for r in results:
        r["pages_per_second_ingest"] = round(total_pages / r["ingest_seconds"], 2)
        r["pages_per_second_wall"] = round(total_pages / r["wall_seconds"], 2)
        r["speed_vs_single_ingest"] = round(base["ingest_seconds"] / r["ingest_seconds"], 2)
        r["speed_vs_single_wall"] = round(base["wall_seconds"] / r["wall_seconds"], 2)
        r["rss_vs_single"] = round(r["peak_rss_mib"] / base["peak_rss_mib"], 2)
        assert r["chunks_written"] == base["chunks_written"], "engines disagree on the chunks"
    payload = {
        "benchmark": "ingest_engines",
        "corpus": {"pdfs": docs, "pages_per_pdf": pages, "pages": total_pages, "generator": "reportlab, ~350 words/page"},
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load_avg_before": load_before,
                    "load_avg_at_end": os.getloadavg()},
        "results": results,
        "design_note": design_note(results),
    }
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(payload, indent=2) + "\n")
    for r in results:
        print(
            f"{r['engine']:>14}: {r['pages_per_second_ingest']:7.2f} pages/s ingest ({r['speed_vs_single_ingest']}x single), "
            f"{r['pages_per_second_wall']:6.2f} pages/s wall ({r['speed_vs_single_wall']}x), "
            f"peak RSS {r['peak_rss_mib']:.0f} MiB ({r['rss_vs_single']}x), PSS {r['peak_pss_mib']:.0f} MiB"
        )
    print(f"load average before {load_before}, at the end {payload['machine']['load_avg_at_end']}")
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
