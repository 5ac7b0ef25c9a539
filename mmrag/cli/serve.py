"""``mmrag mcp`` and ``mmrag serve``: the index as MCP tools or a JSON API."""

from __future__ import annotations

from typing import Annotated

import typer

from mmrag.cli.opening import open_index
from mmrag.cli.options import CollectionOpt, ImageModelOpt, ModelOpt, ServerAllowIngest, StoreOpt, app
from mmrag.terminal import sentences


@app.command()
@sentences
def mcp(
    store: StoreOpt = "mmrag.db",
    collection: CollectionOpt = "mmrag",
    model: ModelOpt = None,
    image_model: ImageModelOpt = None,
    http: Annotated[str | None, typer.Option("--http", help="Serve streamable HTTP at HOST:PORT (path /mcp) instead of stdio")] = None,
    allow_ingest: ServerAllowIngest = None,
) -> None:
    """Serve the index as MCP tools (search, fetch, page_image, sources; ingest with --allow-ingest)."""
    from mmrag.service.run import serve_mcp

    serve_mcp(open_index(store, collection, model, image_model, create=False), http, allow_ingest, store)  # a mistyped path is an error


@app.command()
@sentences
def serve(
    store: StoreOpt = "mmrag.db",
    collection: CollectionOpt = "mmrag",
    model: ModelOpt = None,
    image_model: ImageModelOpt = None,
    bind: Annotated[str, typer.Option("--bind", help="HOST:PORT to listen on")] = "127.0.0.1:8765",
    allow_ingest: ServerAllowIngest = None,
) -> None:
    """Serve the index as a JSON API: search, sources, chunks, thumbnails (bearer token from MMRAG_SERVER_TOKEN, if set)."""
    from mmrag.service.run import serve_http

    serve_http(open_index(store, collection, model, image_model, create=False), bind, allow_ingest, store)  # never a new empty store
