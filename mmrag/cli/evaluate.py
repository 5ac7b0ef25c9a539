"""``mmrag eval``: retrieval scores against a queries file, printed as tables or JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from mmrag.cli.opening import open_index
from mmrag.cli.options import CollectionOpt, ImageModelOpt, ModelOpt, StoreOpt, app, out
from mmrag.terminal import printable, sentences


@app.command(name="eval")
@sentences
def eval_(
    queries: Annotated[Path, typer.Option("--queries", help="JSONL: query and/or image, and source [page|slide|t]")],
    store: StoreOpt = "mmrag.db",
    collection: CollectionOpt = "mmrag",
    model: ModelOpt = None,
    image_model: ImageModelOpt = None,
    modes: Annotated[str, typer.Option("--modes", help="Comma-separated: dense,bm25,hybrid,hybrid+rerank")] = "dense,bm25,hybrid",
    k: Annotated[str, typer.Option("--k", help="Comma-separated cut-offs for recall@k")] = "1,5,10",
    json_out: Annotated[bool, typer.Option("--json", help="Print the results as JSON")] = False,
    rerank: Annotated[
        str | None, typer.Option("--rerank", help="Reranker for hybrid+rerank: bi-encoder[:MODEL] or cross-encoder:MODEL_OR_PATH")
    ] = None,
) -> None:
    """Score retrieval against a queries file: recall@k, MRR, nDCG@10 and latency per mode and modality."""
    from mmrag.evaluation import EvalMode, IndexSearcher, check_supported, evaluate, parse_ks, read_queries

    mode_list, ks = EvalMode.parse_list(modes), parse_ks(k)
    parsed = read_queries(queries)
    index = open_index(store, collection, model, image_model, create=False)  # models load on first use
    check_supported(parsed, mode_list, has_reranker=rerank is not None, embeds_images=index.spaces.embeds_images)
    reranker = None
    if rerank:
        from mmrag.reranking import reranker_from_spec

        reranker = reranker_from_spec(rerank, text_embedder=index.spaces.embedders.get("text")).rerank
    report = evaluate(parsed, IndexSearcher(index, reranker=reranker), mode_list, ks)
    index.close()
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
    for note in data["notes"]:
        out.print(printable(f"note: {note}"), markup=False, highlight=False)
