"""Chunk fields read from loose values: ids and locations that arrive in a
framework's metadata (LangChain ``Document.metadata``, LlamaIndex node metadata).

The adapters share these so that both read the same value the same way: a
location that does not make sense is left out, never guessed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from mmrag.errors import InvalidArgument


def check_id(value: Any, what: str = "id") -> str:
    """``value`` if it is a non-empty string; any length works (stores key long ids by a hash)."""
    if not isinstance(value, str) or not value:
        raise InvalidArgument(f"{what} {value!r} must be a non-empty string")
    return value


def positive_int(value: Any) -> int | None:
    """A 1-based page/slide number, or None for anything else (bools, 0, strings)."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 1 else None


def seconds(value: Any) -> float | None:
    """A finite, non-negative time in seconds, or None."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value >= 0
    return float(value) if ok else None


def time_span(start: Any, end: Any) -> tuple[float | None, float | None]:
    """``(start, end)`` seconds when both are valid and ``end >= start``, else ``(None, None)``."""
    s, e = seconds(start), seconds(end)
    return (s, e) if s is not None and e is not None and e >= s else (None, None)


def locations(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """The ``Chunk`` fields ``context``, ``page``, ``slide``, ``start`` and ``end`` read
    from same-named metadata keys (what does not make sense is left out)."""
    start, end = time_span(metadata.get("start"), metadata.get("end"))
    return {
        "context": str(metadata.get("context") or ""),
        "page": positive_int(metadata.get("page")),
        "slide": positive_int(metadata.get("slide")),
        "start": start,
        "end": end,
    }
