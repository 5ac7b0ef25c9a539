"""Ingestion: files -> elements -> chunks -> vectors -> store.

Each source is loaded and chunked completely before anything is written.
Small sources are batched (``commit_many``): one embedding call, and one
all-or-nothing insert for those the store has never seen; a source that
changed is written alone with ``write_source`` (new rows first, then the stale
ones removed). So a file that fails leaves nothing half-written and a re-run
never duplicates.

With a manifest (``mmrag.manifest``) a re-run skips unchanged files before
loading them; the manifest entry is written after the chunks, so a run killed
at any point is finished by running it again. The steps (``triage``,
``prepare``, ``commit``) are functions of their inputs so the distributed
engine (``mmrag.distributed``) runs the very same ones on its workers.

The package: ``report`` (outcomes), ``steps`` (the functions), ``driver`` (``Ingestor``).
"""

from importlib import import_module as _import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mmrag.ingest.driver import Ingestor
    from mmrag.ingest.report import FileOutcome, IngestReport, Plan, ProgressHook, Status, failure
    from mmrag.ingest.steps import (
        EMBED_BATCH_CHUNKS,
        Prepared,
        commit,
        commit_many,
        doc_id_for,
        iter_files,
        loaders_for,
        prepare,
        remove_source,
    )

# Loaded on first use (PEP 562), so a light submodule (``mmrag.ingest.budget``) does not pull in
# every loader: a search imports only what it runs.
_HOMES = {
    "Ingestor": "driver",
    **dict.fromkeys(["FileOutcome", "IngestReport", "Plan", "ProgressHook", "Status", "failure"], "report"),
    **dict.fromkeys(
        ["EMBED_BATCH_CHUNKS", "Prepared", "commit", "commit_many", "doc_id_for", "iter_files", "loaders_for",
         "prepare", "remove_source"],
        "steps",
    ),
}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'mmrag.ingest' has no attribute {name!r}")
    value = getattr(_import_module(f"mmrag.ingest.{home}"), name)
    globals()[name] = value
    return value
