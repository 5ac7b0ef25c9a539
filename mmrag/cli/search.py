"""``mmrag search``, here or on a running server, and how a hit is printed."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer

from mmrag.cli.opening import open_index
from mmrag.cli.options import CollectionOpt, ImageModelOpt, ModelOpt, StoreOpt, app, err, out
from mmrag.errors import StoreError
from mmrag.stores import Fusion, SearchMode
from mmrag.stores.filters import parse_cli_filters
from mmrag.terminal import printable, sentences


@app.command()
@sentences
def search(
    query: Annotated[str | None, typer.Argument(help="What to look for (optional with --image)")] = None,
    image: Annotated[
        Path | None,
        typer.Option("--image", exists=True, dir_okay=False, help="Search by this picture too (needs an image space: --image-model)"),
    ] = None,
    k: Annotated[int, typer.Option("--k", min=1, help="Number of hits")] = 10,
    mode: Annotated[SearchMode, typer.Option("--mode", case_sensitive=False)] = SearchMode.HYBRID,
    fusion: Annotated[Fusion, typer.Option("--fusion", case_sensitive=False, help="Hybrid fusion")] = Fusion.ADAPTIVE,
    filters: Annotated[list[str] | None, typer.Option("--filter", help="key=value; repeat a key for 'any of'")] = None,
    store: StoreOpt = "mmrag.db",
    collection: CollectionOpt = "mmrag",
    model: ModelOpt = None,
    image_model: ImageModelOpt = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print hits as a JSON array")] = False,
    rerank: Annotated[
        str | None,
        typer.Option("--rerank", help="Rerank k x --candidates-factor hits: bi-encoder[:MODEL] or cross-encoder:MODEL_OR_PATH"),
    ] = None,
    candidates_factor: Annotated[int, typer.Option("--candidates-factor", min=1, help="First-stage hits per final hit when reranking")] = 4,
    server: Annotated[
        str | None,
        typer.Option("--server", envvar="MMRAG_SERVER", help="Ask a running `mmrag serve` at this URL, or `mmrag mcp --http` at URL/mcp, instead (milliseconds; token from MMRAG_SERVER_TOKEN)"),
    ] = None,
) -> None:
    """Search the store and print ranked hits (through the `mmrag serve` that holds the store, if one runs)."""
    if server:
        _refuse_local_only(_local_only(image, fusion, model, image_model, rerank))
        _print_hits(_server_hits(server, query, k, mode, filters or []), json_out)
        return
    from mmrag.service.record import running_server

    holder = running_server(store)
    local_only = _local_only(image, fusion, model, image_model, rerank)
    if holder is not None and holder.collection == collection and not local_only:
        from mmrag.service.client import Unreachable

        try:
            _print_hits(_server_hits(holder.url, query, k, mode, filters or []), json_out)
            return
        except Unreachable:
            pass  # not listening (yet, or any more): open the store here, which says who holds it
    try:
        index = open_index(store, collection, model, image_model, create=False)
    except StoreError as exc:
        if holder is None:
            raise
        why = (f"{', '.join(local_only)} cannot go to a server" if local_only else
               f"it serves collection '{holder.collection}'" if holder.collection != collection else "it did not answer")
        raise StoreError(f"{exc} (the server at {holder.url}, pid {holder.pid}, holds it; it was not asked: {why})") from exc
    reranker = None
    if rerank:
        from mmrag.reranking import reranker_from_spec

        reranker = reranker_from_spec(rerank, text_embedder=index.spaces.embedders.get("text"))
    hits = index.search(
        query, k, image=image, mode=mode, filters=parse_cli_filters(filters or []), fusion=fusion,
        rerank=reranker, candidates_factor=candidates_factor,
    )
    index.close()
    _print_hits([h.to_dict() for h in hits], json_out)


def _print_hits(hits: list[dict], json_out: bool) -> None:
    if json_out:
        print(json.dumps(hits, indent=2, ensure_ascii=False))
        return
    if not hits:
        out.print("no hits")
    for rank, hit in enumerate(hits, start=1):
        out.print(printable(format_hit(rank, hit)), markup=False, highlight=False)


def _local_only(image: Path | None, fusion: Fusion, model: str | None, image_model: str | None, rerank: str | None) -> list[str]:
    """The options given that only a search in this process can honour."""
    local = {"--image": image, "--model": model, "--image-model": image_model, "--rerank": rerank,
             "--fusion": None if fusion is Fusion.ADAPTIVE else fusion}
    return [name for name, value in local.items() if value is not None]


def _refuse_local_only(given: list[str]) -> None:
    if given:
        err.print(f"error: {', '.join(given)} cannot go to a server (it uses its own models, adaptive fusion, "
                  "text queries); search without --server for them", markup=False)
        raise typer.Exit(2)


def _server_hits(server: str, query: str | None, k: int, mode: SearchMode, filters: list[str]) -> list[dict]:
    """The hits of a running ``mmrag serve`` or ``mmrag mcp --http``: it searches its own store with its own models."""
    from mmrag.service.client import TOKEN_ENV, remote_search

    return remote_search(server, query or "", k, mode.value, filters, token=os.environ.get(TOKEN_ENV) or None)


def format_hit(rank: int, hit: dict) -> str:
    """One line per hit: rank, score, where it is (a moment as ``12:34–12:58``), then a snippet."""
    where = [hit["source"]]
    if hit["page"] is not None:
        where.append(f"p.{hit['page']}")
    if hit["slide"] is not None:
        where.append(f"slide {hit['slide']}")
    if hit["start"] is not None:
        from mmrag.loaders.media import moment  # only here: the loaders are slow to import

        where.append(f"{moment(hit['start'])}–{moment(hit['end'])}")
    if hit.get("sheet") is not None:
        where.append(f"sheet {hit['sheet']}")
    if hit.get("row_start") is not None:
        first, last = hit["row_start"], hit["row_end"]
        where.append(f"row {first}" if first == last else f"rows {first}-{last}")
    if hit.get("heading") and hit["page"] is None and hit["slide"] is None:
        where.append(f"§ {hit['heading']}")
    snippet = " ".join(hit["text"].split())
    snippet = snippet[:160] + ("…" if len(snippet) > 160 else "")
    return f"{rank:2d}. {hit['score']:.4f}  {' '.join(where)}  [{hit['modality']}]\n    {snippet}"
