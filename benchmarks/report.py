"""Build benchmarks/RESULTS.md from every result file in benchmarks/results/.

Result files in the shared format (see harness.py: ``tables``, ``notes``,
``figures``) are rendered as written; any other JSON is rendered generically
(scalars as a key/value table, lists of objects as tables), so every helper's
results slot in without a change here.

    python benchmarks/report.py [--quick] [--results DIR] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

NOT_MEASURABLE = """## Modality-gap calibration on real models: not measured

Calibrating the gap between image and text embeddings needs a trained image-text
model (CLIP, SigLIP). None can be installed on this machine: no such weights ship in a
package here, and nothing may be downloaded at run time. Measuring it on randomly
initialised models would say nothing about real models, so no figure is claimed.
Run it where trained weights are available.
"""


def cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return f"{value:.3f}".rstrip("0").rstrip(".") if abs(value) < 100 else f"{value:.1f}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def md_table(columns: list[str], rows: list[list[Any]]) -> list[str]:
    out = ["| " + " | ".join(cell(c) for c in columns) + " |", "|" + "---|" * len(columns)]
    out += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return out


def flatten(data: Mapping[str, Any], prefix: str = "", depth: int = 0) -> tuple[list[list[Any]], list[tuple[str, list]]]:
    """Scalars as (key, value) rows; lists of objects kept apart to render as tables."""
    rows, lists = [], []
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and depth < 3:
            r, lst = flatten(value, f"{name}.", depth + 1)
            rows += r
            lists += lst
        elif isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
            lists.append((name, value))
        elif isinstance(value, list):
            rows.append([name, ", ".join(cell(v) for v in value)])
        else:
            rows.append([name, value])
    return rows, lists


def flat_item(item: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """One table row from a nested object: ``{"a": {"b": 1}}`` -> ``{"a.b": 1}``."""
    out: dict[str, Any] = {}
    for key, value in item.items():
        if isinstance(value, Mapping):
            out.update(flat_item(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = ", ".join(cell(v) for v in value) if isinstance(value, list) else value
    return out


def render_generic(data: Mapping[str, Any]) -> list[str]:
    rows, lists = flatten({k: v for k, v in data.items() if k not in ("title", "date", "machine", "figures")})
    out = md_table(["key", "value"], rows) if rows else []
    for name, items in lists:
        flat = [flat_item(item) for item in items]
        columns = list(dict.fromkeys(k for item in flat for k in item))
        out += ["", f"**{name}**", ""] + md_table(columns, [[item.get(c) for c in columns] for item in flat])
    return out


def machine_line(data: Mapping[str, Any]) -> str:
    m = data.get("machine") or {}
    if not isinstance(m, Mapping) or not m:
        return ""
    text = ", ".join(str(x) for x in (m.get("cpu"), m.get("cores") and f"{m['cores']} cores",
                                      m.get("memory_gib") and f"{m['memory_gib']} GiB", m.get("python") and f"Python {m['python']}") if x)
    if m.get("threads_per_process"):
        text += f", {m['threads_per_process']} math thread(s) per process"
    load = m.get("load_avg_at_start")
    if load and m.get("cores") and load[0] > 0.75 * m["cores"]:
        text += (f"; **shared, loaded machine** (1-min load average {load[0]} on {m['cores']} cores when it started: "
                 "other work ran at the same time, so absolute times are pessimistic; compare the ratios)")
    return text


def render(path: Path, data: Mapping[str, Any], results_dir: Path, out_dir: Path) -> list[str]:
    title = data.get("title") or path.stem.replace("_", " ").capitalize()
    out = [f"## {title}", "", f"`{path.relative_to(out_dir) if path.is_relative_to(out_dir) else path.name}`"
           + (f" · {data['date']}" if data.get("date") else "")]
    if line := machine_line(data):
        out[-1] += f" · {line}"
    out.append("")
    if isinstance(data.get("tables"), list):
        for table in data["tables"]:
            body = md_table(table["columns"], table["rows"]) if table.get("rows") else ["(not run)"]
            out += [f"**{table.get('title', '')}**", ""] + body + [""]
        for note in data.get("notes") or []:
            out.append(f"- {note}")
        if data.get("notes"):
            out.append("")
    else:
        out += render_generic(data) + [""]
    for fig in data.get("figures") or []:
        fig_path = results_dir / fig
        if fig_path.exists():
            out += [f"![{fig}]({os.path.relpath(fig_path, out_dir)})", ""]
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="render the --quick result files into RESULTS.quick.md")
    p.add_argument("--results", type=Path, default=HERE / "results")
    p.add_argument("--out", type=Path)
    args = p.parse_args()
    out_path = args.out or HERE / ("RESULTS.quick.md" if args.quick else "RESULTS.md")
    files = sorted(f for f in args.results.glob("*.json") if f.name.endswith(".quick.json") == args.quick)
    lines = [
        "# Benchmark results",
        "",
        "Generated by `benchmarks/report.py` from every file in `benchmarks/results/`; do not edit by hand.",
        "Reproduce with `make bench` (all parts) or `make bench PART=ingest` (one part), or run a script alone:",
        "`python benchmarks/<name>.py [--quick]`. Every benchmark runs its baseline side by side and reports ratios.",
        "",
    ]
    names = set()
    for f in files:
        try:
            data = json.loads(f.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            lines += [f"## {f.name}", "", f"unreadable result file: {exc}", ""]
            continue
        if not isinstance(data, Mapping):
            data = {"value": data}
        names.add(str(data.get("benchmark") or f.name.split(".")[0]))
        lines += render(f, data, args.results, out_path.parent)
    from run_all import scripts  # the runnable benchmarks, as make bench sees them

    missing = [s.stem for s in scripts() if not any(s.stem in n or n in s.stem for n in names)]
    if missing:
        lines += ["## Not run yet", "", "No result file yet for: " + ", ".join(f"`{m}.py`" for m in missing) + ".", ""]
    gap_files = sorted(n for n in names if "modality_gap" in n)
    lines.append(NOT_MEASURABLE.replace("so no figure is claimed.", (
        f"so no figure is claimed for real models; `{', '.join(gap_files)}` above is a simulation on synthetic "
        "vectors, which shows what the calibration does to a planted gap, not how large a real model's gap is."
    ) if gap_files else "so no figure is claimed."))
    out_path.write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")
    print(out_path)


if __name__ == "__main__":
    main()
