"""The steps of ingestion, as functions of their inputs: find the files, load
and chunk one (``prepare``), write prepared sources (``commit_many``). The
distributed engine (``mmrag.distributed``) runs the very same ones on its workers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from mmrag.chunking import Chunker
from mmrag.embedding.spaces import EmbeddingSpaces, SpaceVectors, join_rows, split_rows
from mmrag.errors import StoreError
from mmrag.ingest.budget import DEFAULT_MAX_FILE_MB, enforce_budget, enforce_decoded
from mmrag.ingest.report import FileOutcome, Status, failure
from mmrag.ingest.walk import walk
from mmrag.loaders import Loader, default_loaders, find_loader
from mmrag.loaders import library_notes
from mmrag.loaders.media import speech_from_asr
from mmrag.loaders.ocr import ocr_skipped_note
from mmrag.manifest import FileState, Fingerprints, Manifest, ManifestEntry, open_manifest
from mmrag.stores.base import VectorStore
from mmrag.types import Chunk, stable_id


def iter_files(paths: Iterable[str | Path], exclude: Iterable[Path] = (), *, follow_links: bool = False) -> Iterator[Path]:
    """Files under ``paths`` in a stable order (``walk`` without its skipped
    entries): hidden files and folders, anything under ``exclude`` (the store's
    own files), non-regular files and links out of the folder are left out."""
    return (p for p in walk(paths, exclude, follow_links=follow_links) if isinstance(p, Path))


def doc_id_for(path: Path) -> str:
    """A source's identity: its resolved path, so ``./a.pdf`` and ``a.pdf`` are one source."""
    return stable_id("source", path.resolve())


# Small sources are gathered until they hold this many chunks, then embedded in
# one call: one short file per forward pass left a CPU mostly idle (Jeopardy's
# 1,000 one-line files). Bounded so a run's memory does not grow with its size.
EMBED_BATCH_CHUNKS = 128
Embed = Callable[[list[Chunk]], Mapping[str, SpaceVectors]]


@dataclass(frozen=True)
class Prepared:
    """One source loaded and chunked, not yet written."""

    state: FileState
    chunks: list[Chunk]
    notes: tuple[str, ...] = ()


def remove_source(store: VectorStore, source: str) -> int:
    """Remove one ingested source, its chunks and its manifest entry (without the
    entry's removal, the next run would skip the unchanged file and never bring it
    back). ``source`` is the file (its resolved path names it) or the path as stored;
    a file's parts (a mail's attachments) go with it.

    A part as ``sources`` lists it (``mail.eml#report.pdf``) removes only that part's
    chunks, its own parts' too; the mail and its manifest entry stay. So a run that
    finds the mail unchanged does not read it again and the part stays removed; once
    the mail changes it is read whole again, that part included.

    A store that keeps no manifest cannot remember that a part was removed: the
    next ingest would read the unchanged mail, find the part's chunks missing and
    write them again. So there removing a part alone is refused (``StoreError``),
    rather than undone without a word; the whole mail can still be removed."""
    found = store.sources()
    part = [c.source for s in found for c in s.children if c.source == source or c.source.startswith(source + "#")]
    if any(c == source for c in part):
        if open_manifest(store) is None:
            parent = next(s.source for s in found if any(c.source == source for c in s.children))
            raise StoreError(
                f"cannot remove {source} alone: this store keeps no ingest manifest, so the next ingest would read "
                f"{parent} again and bring the attachment back; remove {parent} whole, or the attachment from the mail"
            )
        return store.delete_where({"source": part})
    doc_ids = {doc_id_for(Path(source))} | {s.doc_id for s in found if s.source == source}
    removed = sum(store.delete_source(doc_id) for doc_id in sorted(doc_ids))
    manifest = open_manifest(store)
    if manifest is not None:
        manifest.delete(sorted(doc_ids))
    return removed


def loaders_for(spaces: EmbeddingSpaces) -> list[Loader]:
    """Every loader; page renders only when some space embeds their pixels (in a
    text-only collection a render would just repeat its page's text hits)."""
    return default_loaders(render_pages=spaces.embeds_images)


def screen(path: Path, size: int, loaders: list[Loader] | None, max_file_mb: float | None) -> tuple[Loader, str | None]:
    """What a run checks before it loads a file, and ``Ingestor.plan`` checks
    the same, so a dry run lists each file as the run will report it: the budget
    (``mmrag.ingest.budget``: ``size`` on disk, zip parts), the loader and its
    note, whether that loader declines the file (a video's sidecar subtitles),
    then the budget again on what the loader says the file decodes to (media)."""
    enforce_budget(path, size, max_file_mb)
    loader, note = find_loader(path, loaders)
    loader.declines(path)
    enforce_decoded(path, loader.decoded_size(path), max_file_mb)
    return loader, note


def prepare(
    chunker: Chunker, state: FileState, loaders: list[Loader] | None = None, max_file_mb: float | None = DEFAULT_MAX_FILE_MB
) -> Prepared | FileOutcome:
    """Load and chunk one file (hashing it first, for its manifest entry), once
    ``screen`` lets it through."""
    try:
        loader, note = screen(state.path, state.size, loaders, max_file_mb)
        state = state.hashed()
        notes = (note,) if note else ()
        with library_notes.capture() as said:  # parser warnings become this file's note, not console lines
            chunks = list(chunker.chunk(state.doc_id, loader.load(state.path, state.source)))
        notes += (said.note(),) if said.note() else ()
        notes += tuple(said.loader_notes)
        notes += tuple(sorted({str(c.metadata[k]) for c in chunks for k in ("decode_note", "load_note") if c.metadata.get(k)}))
        ocr_note = ocr_skipped_note(c.metadata for c in chunks)
        notes += (ocr_note,) if ocr_note else ()
    except Exception as exc:
        return failure(state.source, exc)
    if not chunks:
        return FileOutcome(state.source, Status.SKIPPED, reason="no extractable content", notes=notes)
    return Prepared(state, chunks, notes)


def commit(
    store: VectorStore, manifest: Manifest | None, fingerprint: Fingerprints, prepared: Prepared, embed: Embed
) -> FileOutcome:
    """Write a prepared source: only chunks the store lacks are embedded and
    inserted, stale ones removed, and the manifest entry written LAST."""
    return commit_many(store, manifest, fingerprint, [prepared], embed)[0]


def commit_many(
    store: VectorStore, manifest: Manifest | None, fingerprint: Fingerprints, prepared: Sequence[Prepared], embed: Embed
) -> list[FileOutcome]:
    """``commit`` for several sources at the cost of about one: one look-up of
    what is stored, one embedding call for every new chunk, one insert for the
    sources the store has never seen, one manifest write. Many one-paragraph
    files (tickets, FAQ entries) would otherwise pay a forward pass and a few
    round trips each.

    A failure stays with its file: when the joint embedding call or the bulk
    insert fails, each source is embedded and written alone, so the error names
    the file that caused it and the others still land. Manifest entries are
    written after every chunk (a run killed in between is finished next time).
    """
    try:
        stored = store.chunk_ids_of([p.state.doc_id for p in prepared])
    except Exception as exc:
        return [failure(p.state.source, exc) for p in prepared]
    outcomes: dict[int, FileOutcome] = {}
    fresh: list[_Write] = []  # sources with nothing stored: one bulk insert
    replaced: list[_Write] = []  # sources with stale chunks: written one by one
    for i, item in enumerate(prepared):
        wanted = {c.id for c in item.chunks}
        have = stored.get(item.state.doc_id, set())
        if have == wanted:
            outcomes[i] = FileOutcome(item.state.source, Status.UNCHANGED, notes=item.notes)
        else:
            (replaced if have else fresh).append(_Write(i, [c for c in item.chunks if c.id not in have], wanted))
    todo = fresh + replaced
    vectors = _embed_jointly(embed, [w.new for w in todo])
    if len(fresh) > 1 and vectors[0] is not None:
        try:
            store.add_sources([c for w in fresh for c in w.new], join_rows([vectors[n] for n in range(len(fresh))]))
            outcomes.update({w.position: _ingested(prepared[w.position], w) for w in fresh})
        except Exception:
            pass  # each fresh source is written alone below, so the error names its file
    for w, vecs in zip(todo, vectors):
        if w.position in outcomes:
            continue
        item = prepared[w.position]
        try:
            store.write_source(item.state.doc_id, w.new, vecs if vecs is not None else embed(w.new), keep=w.wanted)
            outcomes[w.position] = _ingested(item, w)
        except Exception as exc:
            outcomes[w.position] = failure(item.state.source, exc)
    _record(manifest, fingerprint, prepared, outcomes)
    return [outcomes[i] for i in range(len(prepared))]


@dataclass(frozen=True)
class _Write:
    position: int  # in the prepared list
    new: list[Chunk]  # chunks the store lacks
    wanted: set[str]  # every chunk id the source has now


def _ingested(item: Prepared, write: _Write) -> FileOutcome:
    return FileOutcome(item.state.source, Status.INGESTED, chunks=len(write.new), notes=item.notes)


def _embed_jointly(embed: Embed, groups: list[list[Chunk]]) -> list[Mapping[str, SpaceVectors] | None]:
    """Every group's vectors from one ``embed`` call, split back per group; all
    None (embed each group alone) for a single group or when the call fails."""
    if len(groups) < 2:
        return [None] * len(groups)
    try:
        vectors = embed([c for group in groups for c in group])
    except Exception:
        return [None] * len(groups)
    split = {space: split_rows(v, [len(g) for g in groups]) for space, v in vectors.items()}
    return [{space: parts[n] for space, parts in split.items()} for n in range(len(groups))]


def _record(
    manifest: Manifest | None, fingerprint: Fingerprints, prepared: Sequence[Prepared], outcomes: dict[int, FileOutcome]
) -> None:
    """Manifest entries for the sources now stored in full, in one write, each
    under the fingerprint that applies to it; if the write fails, those sources
    are reported failed (their chunks are in place, so the next run only writes
    the entries)."""
    done = [i for i, o in outcomes.items() if o.status in (Status.INGESTED, Status.UNCHANGED)]
    if manifest is None or not done:
        return
    try:
        manifest.put([_entry(prepared[i], fingerprint) for i in done])
    except Exception as exc:
        outcomes.update({i: failure(prepared[i].state.source, exc) for i in done})


def _entry(item: Prepared, fingerprint: Fingerprints) -> ManifestEntry:
    uses_asr = any(speech_from_asr(c.metadata) for c in item.chunks)
    return item.state.entry(len({c.id for c in item.chunks}), fingerprint.for_file(uses_asr))
