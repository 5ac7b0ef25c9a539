"""The per-file memory budget of a run (``--max-file-mb``, ``Index(max_file_mb=...)``).

Each decoder has its own limit (zip members, pixels, text bytes: README "Bad
input"); this one is the blunt cap above them all: a file is refused, before
any loader opens it, when its size on disk, or for a zip container (Office,
EPUB) the sum of its members' declared inflated sizes, is over the budget; for
audio and video, what its loader estimates from the container's header that
decoding would produce (``Loader.decoded_size``, see ``MediaLoader``). One number a user can lower for a small worker, or raise for a big archive.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from mmrag.errors import InvalidArgument, LoaderError
from mmrag.loaders.base import Decoded

DEFAULT_MAX_FILE_MB = 1024.0
MB = 1024 * 1024


class FileTooLargeError(LoaderError):
    """A file is over the run's per-file budget."""


def check_budget(max_file_mb: float | None) -> float | None:
    """``max_file_mb`` validated: a positive number of MB, or None for no budget."""
    if max_file_mb is None:
        return None
    if isinstance(max_file_mb, bool) or not isinstance(max_file_mb, (int, float)) or not max_file_mb > 0:
        raise InvalidArgument(f"max_file_mb must be a number of MB > 0 (or None for no limit), got {max_file_mb!r}")
    return float(max_file_mb)


def enforce_budget(path: Path, size: int, max_file_mb: float | None) -> None:
    """Raise ``FileTooLargeError`` when ``path`` (``size`` bytes on disk) is over
    ``max_file_mb``, by its size or, for a zip, by what its members declare
    they inflate to (the zip's central directory is read, nothing is inflated)."""
    if max_file_mb is None:
        return
    limit = max_file_mb * MB
    hint = _hint(max_file_mb)
    if size > limit:
        raise FileTooLargeError(path, f"file too large: {size / MB:,.1f} MB on disk; {hint}")
    try:
        with path.open("rb") as fh:
            if fh.read(4) != b"PK\x03\x04":
                return
    except OSError:
        return  # unreadable: the loader says so
    try:
        with zipfile.ZipFile(path) as zf:
            inflated = sum(info.file_size for info in zf.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return  # a broken zip: its loader names the problem
    if inflated > limit:
        raise FileTooLargeError(path, f"file too large: its parts inflate to {inflated / MB:,.1f} MB; {hint}")


def enforce_decoded(path: Path, decoded: Decoded | None, max_file_mb: float | None) -> None:
    """Raise ``FileTooLargeError`` when what a loader says ``path`` decodes to is over ``max_file_mb``."""
    if max_file_mb is not None and decoded is not None and decoded.bytes > max_file_mb * MB:
        raise FileTooLargeError(
            path, f"file too large: it would decode to {decoded.bytes / MB:,.1f} MB ({decoded.what}); {_hint(max_file_mb)}"
        )


def _hint(max_file_mb: float) -> str:
    return f"the limit is {max_file_mb:,g} MB per file: raise it with --max-file-mb or Index(max_file_mb=...)"
