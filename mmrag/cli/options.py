"""The Typer app, its consoles and the options its commands share."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from mmrag.terminal import settings

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Multimodal hybrid search for RAG.")
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

StoreOpt = Annotated[str, typer.Option(
    "--store",
    help="path.db or milvus:///path.db (Milvus Lite), milvus://host:19530 or http(s)://host:port (Milvus server), "
    "weaviate://host:8080[?grpc_port=50051] or https://<cluster>.weaviate.cloud (Weaviate; key in WEAVIATE_API_KEY)",
    envvar="MMRAG_STORE",
)]
CollectionOpt = Annotated[str, typer.Option("--collection", help="Collection name", envvar="MMRAG_COLLECTION")]
ModelOpt = Annotated[str | None, typer.Option("--model", help="Text embedding model: Hugging Face id or local path")]
ImageModelOpt = Annotated[
    str | None,
    typer.Option(
        "--image-model",
        help="Image-text model (CLIP/SigLIP id or local path) for a second 'image' space: images and pages by pixels",
        envvar="MMRAG_IMAGE_MODEL",
    ),
]


@app.callback()
def _options(
    debug: Annotated[bool, typer.Option("--debug", envvar="MMRAG_DEBUG", help="Show the traceback of an error, not just its sentence")] = False,
) -> None:
    settings.debug = debug


ServerAllowIngest = Annotated[
    Path | None,
    typer.Option("--allow-ingest", file_okay=False, help="Let clients ingest files under this folder (read-only without it)"),
]
