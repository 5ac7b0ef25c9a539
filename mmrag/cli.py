"""The ``mmrag`` command: ingest, search, info, sources, delete, eval."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from mmrag.errors import MmragError
from mmrag.ingest.budget import DEFAULT_MAX_FILE_MB
from mmrag.stores import Fusion, SearchMode
from mmrag.stores.filters import parse_cli_filters
from mmrag.terminal import printable, sentences, settings

if TYPE_CHECKING:  # each command imports what it runs: a BM25 search loads no loaders and no torch
    from mmrag.asr import Transcriber
    from mmrag.ingest import FileOutcome, IngestReport, ProgressHook
    from mmrag.stores import VectorStore

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


class Engine(str, Enum):
    """Who runs ingestion: one process, or a Daft pipeline (local runner, or Ray with --ray-address)."""

    SINGLE = "single"
    DAFT = "daft"


def _index(
    store: str, collection: str, model: str | None, image_model: str | None = None, speech: Speech | None = None,
    *, create: bool = True,
):
    from mmrag.embedding.spaces import text_and_image_spaces
    from mmrag.index import Index
    from mmrag.stores import open_store

    # The CLI draws its own progress; keep stdout clean. An environment variable, read when
    # transformers first loads, so that a command without a model never imports it.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    opened = open_store(store, collection, token=_token(store), create=create)
    spaces = text_and_image_spaces(*_models(opened, model, image_model))
    return Index(opened, embedder=spaces, asr_model=speech.transcriber(opened) if speech else None)


@dataclass(frozen=True)
class Speech:
    """The media options of ``ingest``: which ASR model, which language, and
    whether a model other than the collection's may re-read its audio and video."""

    model: str | None
    language: str | None
    retranscribe: bool

    def transcriber(self, store: VectorStore) -> Transcriber | None:
        """This run's transcriber; without ``--asr-model``, the one the collection recorded
        (as the embedding models are), unless the run re-transcribes."""
        from mmrag.asr import transcriber_for

        if self.model:
            return transcriber_for(self.model, self.language)
        recorded = None if self.retranscribe else store.asr_model()
        return transcriber_for(recorded.model_name, recorded.language) if recorded else None


def _token(store: str) -> str | None:
    """The credential for ``store`` from the environment: WEAVIATE_API_KEY or MILVUS_TOKEN (user:password)."""
    from mmrag.stores.uris import is_weaviate_uri

    return os.environ.get("WEAVIATE_API_KEY" if is_weaviate_uri(store) else "MILVUS_TOKEN")


@app.command()
@sentences
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files and folders to ingest")],
    store: StoreOpt = "mmrag.db",
    collection: CollectionOpt = "mmrag",
    model: ModelOpt = None,
    image_model: ImageModelOpt = None,
    asr_model: Annotated[str | None, typer.Option("--asr-model", help="Whisper id or local path, or faster-whisper:PATH (CTranslate2): the speech of audio and video files (default: the collection's)")] = None,
    asr_language: Annotated[str | None, typer.Option("--asr-language", help="Language of the speech, e.g. en (default: detected per 30 s window)")] = None,
    retranscribe: Annotated[bool, typer.Option("--retranscribe", help="Accept an ASR model other than the collection's and read the audio and video under PATHS again")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
    prune: Annotated[bool, typer.Option("--prune", help="Also remove stored sources under PATHS whose files are gone")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List what would be added, replaced and removed; write nothing")] = False,
    engine: Annotated[Engine, typer.Option("--engine", case_sensitive=False, help="single: one process; daft: a Daft pipeline (extra 'distributed')")] = Engine.SINGLE,
    ray_address: Annotated[str | None, typer.Option("--ray-address", help="Run the Daft pipeline on this Ray cluster: 'auto' or ray://head:10001")] = None,
    workers: Annotated[int | None, typer.Option("--workers", min=1, help="Daft: instances of each stage (local processes or Ray actors)")] = None,
    max_file_mb: Annotated[float, typer.Option("--max-file-mb", min=0.001, help="Refuse any file over this many MB (on disk, or its zip parts inflated)")] = DEFAULT_MAX_FILE_MB,
    follow_links: Annotated[bool, typer.Option("--follow-links", help="Read symlinks that lead out of a folder being ingested (skipped by default)")] = False,
    overlap: Annotated[bool | None, typer.Option("--overlap/--no-overlap", help="single: read files in a worker process while this one embeds (default: off)")] = None,
) -> None:
    """Load, chunk, embed and store files; exit code 1 if any file failed.

    Unchanged files (same size and mtime, or same content) are skipped without
    loading them; a run that was killed finishes when run again."""
    if engine is not Engine.DAFT and (ray_address or workers):
        err.print("error: --ray-address and --workers go with --engine daft", markup=False)
        raise typer.Exit(2)
    if engine is Engine.DAFT and overlap is not None:
        err.print("error: --overlap/--no-overlap go with --engine single", markup=False)
        raise typer.Exit(2)
    if dry_run:
        _dry_run(paths, store, collection, model, image_model, prune, json_out, Speech(asr_model, asr_language, retranscribe), follow_links)
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with _no_empty_store(store) as wrote, Progress(
        TextColumn("[bold]ingest"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        TextColumn("{task.description}"), console=err, transient=True, disable=not err.is_terminal,
    ) as bar:
        task = bar.add_task("", total=None)

        def step(outcome: FileOutcome) -> None:
            bar.update(task, advance=1, description=printable(Path(outcome.path).name))

        if engine is Engine.DAFT:
            speech = Speech(asr_model, asr_language, retranscribe)
            report = _ingest_daft(paths, store, collection, model, image_model, workers, ray_address, prune, step, speech, max_file_mb)
        else:
            index = _index(store, collection, model, image_model, Speech(asr_model, asr_language, retranscribe))
            index.max_file_mb = max_file_mb
            index.ingestor.overlap = bool(overlap)
            bar.update(task, total=len(index.ingestor.files(paths, follow_links=follow_links)))
            report = index.ingestor.run(paths, on_file=step, prune=prune, retranscribe=retranscribe, follow_links=follow_links)
            index.close()
        wrote.append(report.chunks_written > 0)
    if json_out:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        for line in report.lines():
            out.print(printable(line), markup=False, highlight=False)
    raise typer.Exit(0 if report.ok else 1)


def _models(opened: VectorStore, model: str | None, image_model: str | None) -> tuple[str, str | None]:
    """The text and image models of a run: those given, else those the collection
    recorded (a later search or ingest need not repeat them), else the default text model."""
    from mmrag.embedding.sentence_transformer import DEFAULT_TEXT_MODEL

    recorded = opened.spaces()
    if model is None and "text" in recorded:
        model = recorded["text"].model_name
    if image_model is None and "image" in recorded:
        image_model = recorded["image"].model_name
    return model or DEFAULT_TEXT_MODEL, image_model


def _ingest_daft(
    paths: list[Path], store: str, collection: str, model: str | None, image_model: str | None, workers: int | None,
    ray_address: str | None, prune: bool, step: ProgressHook, speech: Speech, max_file_mb: float = DEFAULT_MAX_FILE_MB,
) -> IngestReport:
    from mmrag.distributed import DaftIngestor, StoreConfig, text_spaces

    config = StoreConfig(store, collection, os.environ.get("MILVUS_TOKEN"))
    opened = config.open()  # the models the collection recorded, when the options do not name them
    try:
        spaces = partial(text_spaces, *_models(opened, model, image_model))  # picklable: each worker builds its own
        transcriber = speech.transcriber(opened)
    finally:
        opened.close()
    engine = DaftIngestor(
        config, spaces, workers=workers, ray_address=ray_address, asr=transcriber.spec() if transcriber else None,
        max_file_mb=max_file_mb,
    )
    return engine.run(paths, on_file=step, prune=prune, retranscribe=speech.retranscribe)


def _dry_run(
    paths: list[Path], store: str, collection: str, model: str | None, image_model: str | None, prune: bool, json_out: bool,
    speech: Speech, follow_links: bool = False,
) -> None:
    """Print what ``ingest`` would do, leaving no trace (not even a new empty store)."""
    with _no_empty_store(store):
        index = _index(store, collection, model, image_model, speech)
        plan = index.ingestor.plan(paths, prune=prune, retranscribe=speech.retranscribe, follow_links=follow_links)
        index.close()
    if json_out:
        print(json.dumps(plan.to_dict(), indent=2))
    else:
        for line in plan.lines():
            out.print(printable(line), markup=False, highlight=False)


@contextmanager
def _no_empty_store(store: str) -> Iterator[list[bool]]:
    """Opening a Milvus Lite path that does not exist creates a store there; when
    the block fails or writes nothing (a missing path, an empty folder, only bad
    files), that new store is removed again. The block appends True to the
    yielded list when it wrote something worth keeping."""
    from mmrag.stores.milvus import parse_uri
    from mmrag.stores.milvus.lite import discard

    try:
        uri, is_lite = parse_uri(store)
    except MmragError:
        uri, is_lite = store, False  # another backend's URI: nothing local to undo
    fresh = is_lite and not Path(uri).expanduser().exists()
    wrote: list[bool] = []
    try:
        yield wrote
    finally:
        if fresh and not any(wrote):
            discard(uri)


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
    """Search the store and print ranked hits."""
    if server:
        _print_hits(_server_hits(server, query, k, mode, filters or [], image, fusion, model, image_model, rerank), json_out)
        return
    index = _index(store, collection, model, image_model, create=False)
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


def _server_hits(
    server: str, query: str | None, k: int, mode: SearchMode, filters: list[str], image: Path | None, fusion: Fusion,
    model: str | None, image_model: str | None, rerank: str | None,
) -> list[dict]:
    """The hits of a running ``mmrag serve`` or ``mmrag mcp --http``: it searches its own store with its own models."""
    from mmrag.service.client import TOKEN_ENV, remote_search

    local = {"--image": image, "--model": model, "--image-model": image_model, "--rerank": rerank,
             "--fusion": None if fusion is Fusion.ADAPTIVE else fusion}
    given = [name for name, value in local.items() if value is not None]
    if given:
        err.print(f"error: {', '.join(given)} cannot go to a server (it uses its own models, adaptive fusion, "
                  "text queries); search without --server for them", markup=False)
        raise typer.Exit(2)
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


@app.command()
@sentences
def info(store: StoreOpt = "mmrag.db") -> None:
    """List collections with their row counts and embedding models."""
    from mmrag.stores import open_store

    st = open_store(store, token=_token(store), create=False)
    collections = st.info()
    st.close()
    if not collections:
        out.print(f"no mmrag collections at {store}", markup=False)
    for c in collections:
        out.print(f"{c.name}: {c.rows} rows", markup=False)
        for space, spec in c.spaces.items():
            out.print(f"  {space}: {spec.describe()}", markup=False)


@app.command()
@sentences
def sources(
    store: StoreOpt = "mmrag.db",
    collection: CollectionOpt = "mmrag",
    json_out: Annotated[bool, typer.Option("--json", help="Print sources as a JSON array")] = False,
) -> None:
    """List the ingested sources with their chunk counts; a mail's attachments are listed under it."""
    from mmrag.stores import open_store

    st = open_store(store, collection, token=_token(store), create=False)
    found = st.sources()
    st.close()
    if json_out:
        print(json.dumps([s.to_dict() for s in found], indent=2))
        return
    if not found:
        out.print(f"no sources in collection '{collection}' at {store}", markup=False)
    for s in found:  # a file's count includes its attachments'; each attachment below it with its own
        out.print(printable(f"{s.chunks:6d}  {s.source}"), markup=False, highlight=False)
        for child in s.children:
            out.print(printable(f"{child.chunks:6d}    {child.source}"), markup=False, highlight=False)


@app.command()
@sentences
def delete(
    source: Annotated[str, typer.Option("--source", help="A file as ingested (same path, or the path `sources` lists)")],
    store: StoreOpt = "mmrag.db",
    collection: CollectionOpt = "mmrag",
) -> None:
    """Remove every chunk of one ingested source (a mail with its attachments, or one
    attachment as `sources` lists it); exit code 1 if nothing was stored for it."""
    from mmrag.ingest import remove_source
    from mmrag.stores import open_store

    st = open_store(store, collection, token=_token(store), create=False)
    parent = next((s.source for s in st.sources() for c in s.children if c.source == source), None)
    removed = remove_source(st, source)
    st.close()
    if not removed:
        err.print(printable(f"nothing stored for {source} in collection '{collection}' (see: mmrag sources)"), markup=False)
        raise typer.Exit(1)
    out.print(printable(f"deleted {removed} chunks of {source}"), markup=False, highlight=False)
    if parent is not None:
        out.print(printable(f"{parent} stays; if it changes, the next ingest reads it whole, this part included"),
                  markup=False, highlight=False)


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
    index = _index(store, collection, model, image_model, create=False)  # models load on first use
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


ServerAllowIngest = Annotated[
    Path | None,
    typer.Option("--allow-ingest", file_okay=False, help="Let clients ingest files under this folder (read-only without it)"),
]


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

    serve_mcp(_index(store, collection, model, image_model, create=False), http, allow_ingest)  # a mistyped path is an error


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

    serve_http(_index(store, collection, model, image_model, create=False), bind, allow_ingest)  # never a new empty store


def main() -> None:
    app(prog_name="mmrag")


if __name__ == "__main__":
    sys.exit(main())
