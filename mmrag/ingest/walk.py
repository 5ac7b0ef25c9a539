"""Which files a run reads, and the containment rule it shares with the servers.

A folder is walked by hand (``os.scandir``) rather than with ``Path.rglob``,
because rglob drops what it cannot read without a word: an unreadable
subfolder, a FIFO, a broken link, a link loop. Here each gets a report line,
and only regular files are yielded. A symlink whose target leaves the folder
being ingested is skipped unless the caller follows links (``--follow-links``):
a shared ingest folder must not become a way to read the rest of the disk.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path

from mmrag.errors import MmragError
from mmrag.ingest.report import FileOutcome, Status


class PathRefused(MmragError, ValueError):
    """A path is outside the folder it must stay in, or is not there."""


def within(path: Path, root: Path) -> bool:
    """True when resolved ``path`` is ``root`` (resolved) or inside it."""
    return path == root or path.is_relative_to(root)


def contained(path: str | Path, root: Path) -> Path:
    """``path`` resolved (symlinks and ``..`` followed); refused unless it is
    ``root`` or inside it. The one check behind a folder walk's links and a
    server's ``--allow-ingest DIR``."""
    try:
        resolved = Path(path).expanduser().resolve()
    except (OSError, RuntimeError) as exc:  # a link loop
        raise PathRefused(f"{path}: cannot be resolved ({exc})") from exc
    if not within(resolved, root.resolve()):
        raise PathRefused(f"{path}: outside the folder this server may ingest ({root}); pass a path under it")
    if not resolved.exists():
        raise PathRefused(f"{path}: no such file or folder under {root}")
    return resolved


def printable(path: Path | str) -> str:
    """The path as text that encodes as UTF-8: bytes of a non-UTF-8 name shown as ``\\xNN``."""
    return os.fsencode(str(path)).decode("utf-8", "backslashreplace")


def bad_name(path: Path) -> str | None:
    """Why ``path`` cannot be a source's name, or None: it must be valid UTF-8,
    because the store keeps the path as text (and a source id hashes it)."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        return "its name is not valid UTF-8: rename the file (the store keeps paths as UTF-8 text)"
    return None


_KINDS = [(stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISSOCK, "a socket")]


def _skip(path: Path, reason: str) -> FileOutcome:
    return FileOutcome(printable(path), Status.SKIPPED, reason=reason)


def walk(
    paths: Iterable[str | Path], exclude: Iterable[Path] = (), *, follow_links: bool = False
) -> Iterator[Path | FileOutcome]:
    """Files under ``paths`` in a stable order, and a skipped outcome for each
    entry of a folder that is not read: hidden entries and anything under
    ``exclude`` (the store's own files) silently; links leaving the folder
    (unless ``follow_links``), non-regular files, broken links, link loops,
    unreadable folders and non-UTF-8 names with a reason. A path given
    directly is yielded as it is (the run's triage checks it)."""
    skip = [e.resolve() for e in exclude]

    def excluded(resolved: Path) -> bool:
        return any(within(resolved, s) for s in skip)

    for given in paths:
        root = Path(given)
        if root.is_dir():  # a link to a folder given directly is followed: the user named it
            yield from _walk_dir(root, root.resolve(), excluded, follow_links, set())
        else:
            try:
                resolved = root.resolve()
            except (OSError, RuntimeError):  # a link loop: kept, for its report line
                resolved = None
            if resolved is None or not excluded(resolved):
                yield root


def _walk_dir(folder: Path, root: Path, excluded, follow_links: bool, seen: set[Path]) -> Iterator[Path | FileOutcome]:
    here = folder.resolve()
    if here in seen:  # a followed link back to a folder already walked
        return
    seen.add(here)
    try:
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as exc:
        yield _skip(folder, f"cannot list this folder: {exc.strerror or exc}")
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        path = Path(entry.path)
        reason = bad_name(path)
        if reason:
            yield _skip(path, reason)
            continue
        if entry.is_symlink():
            try:
                target = path.resolve(strict=True)
            except FileNotFoundError:
                yield _skip(path, "a broken symlink: its target does not exist")
                continue
            except (OSError, RuntimeError) as exc:
                loop = isinstance(exc, RuntimeError) or getattr(exc, "errno", None) == errno.ELOOP
                yield _skip(path, "a symlink loop: the link never reaches a file" if loop else f"cannot follow this link: {exc}")
                continue
            if excluded(target):
                continue
            if not within(target, root) and not follow_links:
                yield _skip(path, f"a symlink to {printable(target)}, outside the folder being ingested: skipped "
                                  "(--follow-links, or Index.ingest(follow_links=True), reads it)")
                continue
            if target.is_dir():
                if follow_links:  # inside links to folders are walked where they really are
                    yield from _walk_dir(path, root, excluded, follow_links, seen)
                continue
        try:
            mode = path.stat().st_mode
        except OSError as exc:
            yield _skip(path, f"cannot be read: {exc.strerror or exc}")
            continue
        if excluded(path.resolve()):
            continue
        if stat.S_ISDIR(mode):
            yield from _walk_dir(path, root, excluded, follow_links, seen)
        elif stat.S_ISREG(mode):
            yield path
        else:
            kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
            yield _skip(path, f"{kind}, not a regular file: only regular files are read")


def unreadable(path: Path) -> FileOutcome | None:
    """Why a path given directly is not opened, or None for a regular file. The
    walk checks what it finds; this checks what the user named: a FIFO would
    block the run and ``/dev/zero`` never ends, so only regular files are read."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        reason = "a broken symlink: its target does not exist" if path.is_symlink() else "no such file"
        return FileOutcome(printable(path), Status.FAILED, reason=reason)
    except OSError as exc:
        loop = exc.errno == errno.ELOOP
        return FileOutcome(printable(path), Status.FAILED,
                           reason="a symlink loop: the link never reaches a file" if loop else f"cannot be read: {exc.strerror or exc}")
    if stat.S_ISREG(mode):
        return None
    kind = next((name for test, name in _KINDS if test(mode)), "a folder" if stat.S_ISDIR(mode) else "not a regular file")
    return _skip(path, f"{kind}, not a regular file: only regular files are read")
