"""``mmrag ingest``: one process, or a Daft pipeline; ``--dry-run`` plans without writing."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mmrag.cli.opening import Speech, open_index, recorded_models
from mmrag.cli.options import CollectionOpt, ImageModelOpt, ModelOpt, StoreOpt, app, err, out
from mmrag.errors import MmragError
from mmrag.ingest.budget import DEFAULT_MAX_FILE_MB
from mmrag.terminal import printable, sentences

if TYPE_CHECKING:
    from mmrag.ingest import FileOutcome, IngestReport, ProgressHook


class Engine(str, Enum):
    """Who runs ingestion: one process, or a Daft pipeline (local runner, or Ray with --ray-address)."""

    SINGLE = "single"
    DAFT = "daft"


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
    max_file_mb: Annotated[float, typer.Option("--max-file-mb", min=0.001, help="Refuse any file over this many MB (on disk, its zip parts inflated, or media decoded)")] = DEFAULT_MAX_FILE_MB,
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
        speech = Speech(asr_model, asr_language, retranscribe)
        _dry_run(paths, store, collection, model, image_model, prune, json_out, speech, follow_links, max_file_mb)
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
            report = _ingest_daft(
                paths, store, collection, model, image_model, workers, ray_address, prune, step, speech, max_file_mb,
                follow_links,
            )
        else:
            index = open_index(store, collection, model, image_model, Speech(asr_model, asr_language, retranscribe))
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


def _ingest_daft(
    paths: list[Path], store: str, collection: str, model: str | None, image_model: str | None, workers: int | None,
    ray_address: str | None, prune: bool, step: ProgressHook, speech: Speech, max_file_mb: float = DEFAULT_MAX_FILE_MB,
    follow_links: bool = False,
) -> IngestReport:
    from mmrag.distributed import DaftIngestor, StoreConfig, text_spaces

    config = StoreConfig(store, collection, os.environ.get("MILVUS_TOKEN"))
    opened = config.open()  # the models the collection recorded, when the options do not name them
    try:
        spaces = partial(text_spaces, *recorded_models(opened, model, image_model))  # picklable: each worker builds its own
        transcriber = speech.transcriber(opened)
    finally:
        opened.close()
    engine = DaftIngestor(
        config, spaces, workers=workers, ray_address=ray_address, asr=transcriber.spec() if transcriber else None,
        max_file_mb=max_file_mb,
    )
    return engine.run(paths, on_file=step, prune=prune, retranscribe=speech.retranscribe, follow_links=follow_links)


def _dry_run(
    paths: list[Path], store: str, collection: str, model: str | None, image_model: str | None, prune: bool, json_out: bool,
    speech: Speech, follow_links: bool = False, max_file_mb: float = DEFAULT_MAX_FILE_MB,
) -> None:
    """Print what ``ingest`` would do, leaving no trace (not even a new empty store)."""
    with _no_empty_store(store):
        index = open_index(store, collection, model, image_model, speech)
        index.max_file_mb = max_file_mb
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
