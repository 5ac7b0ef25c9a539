"""The ``mmrag`` command: ingest, search, info, eval."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from mmrag.errors import MmragError
from mmrag.ingest import FileOutcome
from mmrag.stores import Fusion, SearchMode
from mmrag.stores.filters import parse_cli_filters

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Multimodal hybrid search for RAG.")
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

StoreOpt = Annotated[str, typer.Option("--store", help="*.db (Milvus Lite), milvus://host:19530 or http(s)://host:port", envvar="MMRAG_STORE")]
CollectionOpt = Annotated[str, typer.Option("--collection", help="Collection name", envvar="MMRAG_COLLECTION")]
ModelOpt = Annotated[str | None, typer.Option("--model", help="Text embedding model: Hugging Face id or local path")]


def _index(store: str, collection: str, model: str | None):
    from mmrag.embedding.sentence_transformer import DEFAULT_TEXT_MODEL, SentenceTransformerEmbedder
    from mmrag.index import Index
    from mmrag.stores import open_store

    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # the CLI draws its own progress; keep stdout clean
    token = os.environ.get("MILVUS_TOKEN")
    return Index(open_store(store, collection, token=token), embedder=SentenceTransformerEmbedder(model or DEFAULT_TEXT_MODEL))


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files and folders to ingest")],
    store: StoreOpt = "mmrag.db",
    collection: CollectionOpt = "mmrag",
    model: ModelOpt = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
) -> None:
    """Load, chunk, embed and store files; exit code 1 if any file failed."""
    try:
        index = _index(store, collection, model)
        files = index.ingestor.files(paths)
        with Progress(
            TextColumn("[bold]ingest"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            TextColumn("{task.description}"), console=err, transient=True, disable=not err.is_terminal,
        ) as bar:
            task = bar.add_task("", total=len(files))

            def step(outcome: FileOutcome) -> None:
                bar.update(task, advance=1, description=Path(outcome.path).name)

            report = index.ingest(files, on_file=step)
        index.close()
    except MmragError as exc:
        err.print(f"error: {exc}", markup=False)
        raise typer.Exit(2) from None
    if json_out:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        for line in report.lines():
            out.print(line, markup=False, highlight=False)
    raise typer.Exit(0 if report.ok else 1)


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="What to look for")],
    k: Annotated[int, typer.Option("--k", min=1, help="Number of hits")] = 10,
    mode: Annotated[SearchMode, typer.Option("--mode", case_sensitive=False)] = SearchMode.HYBRID,
    fusion: Annotated[Fusion, typer.Option("--fusion", case_sensitive=False, help="Hybrid fusion")] = Fusion.RRF,
    filters: Annotated[list[str] | None, typer.Option("--filter", help="key=value; repeat a key for 'any of'")] = None,
    store: StoreOpt = "mmrag.db",
    collection: CollectionOpt = "mmrag",
    model: ModelOpt = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print hits as a JSON array")] = False,
) -> None:
    """Search the store and print ranked hits."""
    try:
        index = _index(store, collection, model)
        hits = index.search(query, k, mode=mode, filters=parse_cli_filters(filters or []), fusion=fusion)
        index.close()
    except (MmragError, ValueError) as exc:
        err.print(f"error: {exc}", markup=False)
        raise typer.Exit(2) from None
    if json_out:
        print(json.dumps([h.to_dict() for h in hits], indent=2, ensure_ascii=False))
        return
    if not hits:
        out.print("no hits")
    for rank, hit in enumerate(hits, start=1):
        out.print(format_hit(rank, hit.to_dict()), markup=False, highlight=False)


def format_hit(rank: int, hit: dict) -> str:
    """One line per hit: rank, score, where it is, then a snippet."""
    where = [hit["source"]]
    if hit["page"] is not None:
        where.append(f"p.{hit['page']}")
    if hit["slide"] is not None:
        where.append(f"slide {hit['slide']}")
    if hit["start"] is not None:
        where.append(f"{hit['start']:.1f}-{hit['end']:.1f}s")
    snippet = " ".join(hit["text"].split())
    snippet = snippet[:160] + ("…" if len(snippet) > 160 else "")
    return f"{rank:2d}. {hit['score']:.4f}  {' '.join(where)}  [{hit['modality']}]\n    {snippet}"


@app.command()
def info(store: StoreOpt = "mmrag.db") -> None:
    """List collections with their row counts and embedding models."""
    from mmrag.stores import open_store

    try:
        st = open_store(store)
        collections = st.info()
        st.close()
    except MmragError as exc:
        err.print(f"error: {exc}", markup=False)
        raise typer.Exit(2) from None
    if not collections:
        out.print(f"no mmrag collections at {store}", markup=False)
    for c in collections:
        out.print(f"{c.name}: {c.rows} rows", markup=False)
        for space, spec in c.spaces.items():
            out.print(f"  {space}: {spec.describe()}", markup=False)


@app.command(name="eval")
def eval_(
    queries: Annotated[Path, typer.Option("--queries", help="JSONL: query and/or image, and source [page|slide|t]")],
    store: StoreOpt = "mmrag.db",
    collection: CollectionOpt = "mmrag",
    model: ModelOpt = None,
    modes: Annotated[str, typer.Option("--modes", help="Comma-separated: dense,bm25,hybrid,hybrid+rerank")] = "dense,bm25,hybrid",
    k: Annotated[str, typer.Option("--k", help="Comma-separated cut-offs for recall@k")] = "1,5,10",
    json_out: Annotated[bool, typer.Option("--json", help="Print the results as JSON")] = False,
) -> None:
    """Score retrieval against a queries file: recall@k, MRR, nDCG@10 and latency per mode and modality."""
    from mmrag.evaluation import EvalMode, IndexSearcher, check_supported, evaluate, parse_ks, read_queries

    try:
        mode_list, ks = EvalMode.parse_list(modes), parse_ks(k)
        parsed = read_queries(queries)
        check_supported(parsed, mode_list, has_reranker=False)  # before loading a model
        index = _index(store, collection, model)
        report = evaluate(parsed, IndexSearcher(index), mode_list, ks)
        index.close()
    except (MmragError, ValueError) as exc:
        err.print(f"error: {exc}", markup=False)
        raise typer.Exit(2) from None
    data = report.to_dict()
    if json_out:
        print(json.dumps(data, indent=2))
        return
    _print_eval_tables(data)


def _print_eval_tables(data: dict) -> None:
    """One table per mode; a row per slice (all, each query modality, each group)."""
    from rich.table import Table

    ks, ndcg = data["k"], f"ndcg@{data['ndcg_k']}"
    for mode, slices in data["modes"].items():
        table = Table(title=f"{mode} ({data['queries']} queries)", title_justify="left")
        for col in ["slice", "n", *(f"R@{x}" for x in ks), "MRR", ndcg.replace("ndcg", "nDCG"), "p50 ms", "p95 ms"]:
            table.add_column(col, justify="left" if col == "slice" else "right", no_wrap=True)
        for name, m in slices.items():
            table.add_row(
                name, str(m["queries"]), *(f"{m[f'recall@{x}']:.3f}" for x in ks), f"{m['mrr']:.3f}",
                f"{m[ndcg]:.3f}", f"{m['latency_ms']['p50']:.1f}", f"{m['latency_ms']['p95']:.1f}",
            )
        out.print(table, width=max(out.width, 110))  # a narrow terminal wraps rather than cutting names


def main() -> None:
    app(prog_name="mmrag")


if __name__ == "__main__":
    sys.exit(main())
