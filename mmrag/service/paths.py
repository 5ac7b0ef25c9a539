"""Path containment for ``--allow-ingest DIR`` (written here until the core has one)."""

from __future__ import annotations

from pathlib import Path

from mmrag.errors import MmragError


class PathRefused(MmragError, ValueError):
    """A path is outside the folder the server may read, or is not there."""


def contained(path: str | Path, root: Path) -> Path:
    """``path`` resolved (symlinks and ``..`` followed); refused unless it is ``root`` or inside it."""
    resolved = Path(path).expanduser().resolve()
    if resolved != root and not resolved.is_relative_to(root):
        raise PathRefused(f"{path}: outside the folder this server may ingest ({root}); pass a path under it")
    if not resolved.exists():
        raise PathRefused(f"{path}: no such file or folder under {root}")
    return resolved
