"""``mmrag info``, ``sources`` and ``delete``: what a store holds, and removing a source."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from mmrag.cli.opening import store_token
from mmrag.cli.options import CollectionOpt, StoreOpt, app, err, out
from mmrag.terminal import printable, sentences


@app.command()
@sentences
def info(store: StoreOpt = "mmrag.db") -> None:
    """List collections with their row counts and embedding models."""
    from mmrag.stores import open_store

    st = open_store(store, token=store_token(store), create=False)
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

    st = open_store(store, collection, token=store_token(store), create=False)
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

    st = open_store(store, collection, token=store_token(store), create=False)
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
