"""Metadata filters as data, translated to Milvus expressions by a pure function.

Milvus Lite does not accept expression templates (``filter_params``), so values
are escaped here: a value holding quotes or operators stays one string literal
and cannot change the expression.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mmrag.errors import FilterError

_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


@dataclass(frozen=True, slots=True)
class Range:
    """``gte <= value <= lte`` (either bound may be left open)."""

    gte: float | None = None
    lte: float | None = None

    def __post_init__(self) -> None:
        if self.gte is None and self.lte is None:
            raise FilterError("a Range needs gte, lte or both")
        if self.gte is not None and self.lte is not None and self.gte > self.lte:
            raise FilterError(f"empty Range: gte {self.gte} > lte {self.lte}")


Filters = Mapping[str, Any]
"""``{key: value}``: a scalar means equality, a list/tuple/set means "in", a
``Range`` a range. Keys are chunk fields (``source``, ``page``...) or metadata keys."""


def literal(value: Any, key: str) -> str:
    """``value`` as a Milvus literal that cannot break out of its place."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise FilterError(f"filter '{key}': {value} is not a finite number")
        return repr(value)
    if isinstance(value, str):
        if any(ord(c) < 32 and c not in _ESCAPES for c in value):
            raise FilterError(f"filter '{key}': control characters are not allowed in values")
        return '"' + "".join(_ESCAPES.get(c, c) for c in value) + '"'
    raise FilterError(f"filter '{key}': unsupported value type {type(value).__name__}")


def to_milvus_filter(filters: Filters | None, fields: Mapping[str, str]) -> str:
    """A Milvus boolean expression for ``filters``.

    ``fields`` maps public keys to column names (``{"start": "t_start"}``);
    other keys address the ``metadata`` JSON column.
    """
    if not filters:
        return ""
    clauses = []
    for key, value in filters.items():
        if not _KEY.match(key):
            raise FilterError(f"invalid filter key {key!r}: use letters, digits and _")
        column = fields.get(key, f'metadata["{key}"]')
        if isinstance(value, Range):
            parts = []
            if value.gte is not None:
                parts.append(f"{column} >= {literal(value.gte, key)}")
            if value.lte is not None:
                parts.append(f"{column} <= {literal(value.lte, key)}")
            clauses.append(" and ".join(parts))
        elif isinstance(value, (list, tuple, set, frozenset)):
            if not value:
                raise FilterError(f"filter '{key}': an empty list matches nothing")
            values = [literal(v, key) for v in sorted(value, key=repr)]
            if key in fields:
                clauses.append(f"{column} in [{', '.join(values)}]")
            else:  # Milvus Lite refuses `in` on a JSON key ("left side of 'in' must be a field reference")
                clauses.append(" or ".join(f"{column} == {v}" for v in values))
        elif value is None:
            clauses.append(f"{column} is null")
        else:
            clauses.append(f"{column} == {literal(value, key)}")
    return " and ".join(f"({c})" for c in clauses)


def parse_cli_filters(pairs: list[str]) -> dict[str, Any]:
    """``["page=3", "source=a.pdf"]`` to a filter dict; integers stay integers."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise FilterError(f"--filter {pair!r}: expected key=value")
        value: Any = int(raw) if re.fullmatch(r"-?\d+", raw) else raw
        if key in out:  # a repeated key means "any of these values"
            prev = out[key]
            value = [*prev, value] if isinstance(prev, list) else [prev, value]
        out[key] = value
    return out
