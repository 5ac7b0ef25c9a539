"""The ``mmrag`` command: ingest, search, info, sources, delete, eval, mcp, serve.

One module per job; importing them registers their commands on ``app``. Each command
imports what it runs when it runs: a BM25 search loads no loaders and no torch."""

from __future__ import annotations

# registers the commands, in the order --help lists them
from mmrag.cli import ingest, search, manage, evaluate, serve  # noqa: F401
from mmrag.cli.options import app
from mmrag.cli.search import format_hit

__all__ = ["app", "format_hit", "main"]


def main() -> None:
    app(prog_name="mmrag")
