"""Run every benchmark script in benchmarks/ (or those matching --part), then
rebuild RESULTS.md. ``make bench`` and ``make bench PART=ingest`` call this.

A benchmark is any ``benchmarks/*.py`` with a ``__main__`` block other than the
shared modules; each runs in its own process with a time limit, and one that
fails is reported while the others go on.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHARED = {"harness", "corpus", "anchor", "report", "run_all"}


def scripts() -> list[Path]:
    found = []
    for path in sorted(HERE.glob("*.py")):
        if path.stem in SHARED or path.stem.startswith("_"):
            continue
        if 'if __name__ == "__main__"' in path.read_text(encoding="utf-8"):
            found.append(path)
    return found


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--part", help="run only benchmarks whose file name contains this (e.g. ingest, retrieval)")
    p.add_argument("--quick", action="store_true", help="pass --quick to each benchmark (tiny sizes)")
    p.add_argument("--timeout", type=float, default=1800, help="seconds allowed per benchmark (a loaded machine needs more)")
    args = p.parse_args()
    chosen = [s for s in scripts() if not args.part or args.part in s.stem]
    if not chosen:
        names = ", ".join(s.stem for s in scripts())
        print(f"no benchmark matches --part {args.part!r}; available: {names}", file=sys.stderr)
        return 2
    env = {**os.environ, "PYTHONPATH": str(HERE.parent), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    failed = []
    began = time.perf_counter()
    for script in chosen:
        cmd = [sys.executable, str(script), *(["--quick"] if args.quick else [])]
        print(f"== {script.name}", flush=True)
        started = time.perf_counter()
        try:
            code = subprocess.run(cmd, env=env, cwd=HERE.parent, timeout=args.timeout).returncode
        except subprocess.TimeoutExpired:
            code = "timeout"
        seconds = time.perf_counter() - started
        print(f"== {script.name}: {'ok' if code == 0 else f'FAILED ({code})'} in {seconds:.0f} s", flush=True)
        if code != 0:
            failed.append(script.name)
    report = [sys.executable, str(HERE / "report.py"), *(["--quick"] if args.quick else [])]
    subprocess.run(report, env=env, cwd=HERE.parent, check=True)
    print(f"== {len(chosen)} benchmarks in {(time.perf_counter() - began) / 60:.1f} min", flush=True)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
