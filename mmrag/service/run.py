"""Start the servers from the CLI: parse ``HOST:PORT``, build the service once, serve."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from mmrag.service.client import TOKEN_ENV as TOKEN_ENV
from mmrag.service.core import RequestError
from mmrag.service.record import local_url, recorded

if TYPE_CHECKING:
    from mmrag.index import Index


def host_port(value: str) -> tuple[str, int]:
    """``127.0.0.1:8765`` -> ``("127.0.0.1", 8765)``; a bare port binds 127.0.0.1."""
    host, sep, port = value.rpartition(":")
    if not sep:
        host, port = "127.0.0.1", value
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise RequestError(f"--http {value!r}: expected HOST:PORT, e.g. 127.0.0.1:8765")
    return host or "127.0.0.1", int(port)


def serve_mcp(index: Index, http: str | None, allow_ingest: Path | None, store: str) -> None:
    """Run the MCP server on stdio, or on streamable HTTP at ``http`` (path /mcp); on HTTP it is
    recorded in ``store``'s folder while it runs, so that ``mmrag search`` there can ask it."""
    from mmrag.service.core import Service
    from mmrag.service.mcp_server import build_server

    server = build_server(Service(index, allow_ingest=allow_ingest))
    if http is None:
        server.run("stdio")
    else:
        host, port = host_port(http)
        with recorded(store, index.store.collection, local_url(host, port) + "/mcp"):
            server.run("streamable-http", host=host, port=port)


def serve_http(index: Index, bind: str, allow_ingest: Path | None, store: str) -> None:
    """Run the JSON API and the search page with uvicorn, recorded in ``store``'s folder while
    it runs (``mmrag.service.record``): a plain ``mmrag search`` on the store then asks it."""
    import uvicorn

    from mmrag.service.core import Service
    from mmrag.service.http_api import build_app

    host, port = host_port(bind)
    for embedder in index.spaces.embedders.values():  # before listening: the first search is as fast as the rest
        embedder.load()
    app = build_app(Service(index, allow_ingest=allow_ingest), token=os.environ.get(TOKEN_ENV) or None)
    with recorded(store, index.store.collection, local_url(host, port)):
        uvicorn.run(app, host=host, port=port, log_level="warning")
