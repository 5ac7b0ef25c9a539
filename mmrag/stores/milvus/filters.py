"""The filter algebra as a Milvus boolean expression: a pure function.

Milvus Lite does not accept expression templates (``filter_params``), so values
are escaped here: a value holding quotes or operators stays one string literal
and cannot change the expression.

Milvus evaluates ``not`` over JSON keys three-valued: ``not (metadata["k"] == v)``
drops rows without ``k``, and ``not`` of a comparison drops rows whose value is of
another type. So ``Not`` is pushed down to the leaves (De Morgan) and each leaf has
an explicit complement that names those rows (``not exists``, ``is null``, a
string under a numeric range). Lite also refuses ``in`` on a JSON key, so "any
of" there is an OR of equalities.

``Match`` is LIKE. On a column ``\\``, ``%`` and ``_`` are escaped; Milvus' LIKE on a
JSON key has no escape at all (``\\%`` matches nothing there, ``[%]`` neither:
tested on a Lite file), so a metadata text match holding ``%`` or ``_`` is resolved
by the store first: ``loose_match`` (each of them a one-character wildcard) finds
the candidates, their values are checked in Python, and the match becomes
``id in [the rows that hold the text]`` (``resolved``), exact in both directions.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from mmrag.errors import FilterError
from mmrag.stores.filters import NULLABLE, And, Eq, Filter, Filters, In, Match, Not, Or, Range, column, to_filter

_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


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


KEY_COLUMNS = ("id", "doc_id")


Resolved = Mapping[Match, Sequence[str]]
"""Metadata text matches the store has settled: each to the stored keys of the rows that hold the text."""


def to_milvus_filter(
    filters: Filters | None, keys: Callable[[str], str] | None = None, resolved: Resolved | None = None
) -> str:
    """A Milvus boolean expression for ``filters`` ("" for none). ``keys`` maps an
    id or doc_id to the key the row is stored under (long ids are kept hashed);
    ``resolved`` settles the metadata text matches of ``literal_matches``."""
    f = to_filter(filters)
    return "" if f is None else _expr(_keyed(f, keys) if keys else f, False, resolved or {})


def literal_matches(filters: Filters | None) -> list[Match]:
    """The metadata text matches in ``filters`` that hold ``%`` or ``_`` (LIKE on a
    JSON key cannot say them literally: the store resolves these to row keys)."""
    f = to_filter(filters)
    return [] if f is None else list(dict.fromkeys(_literal_matches(f)))


def _literal_matches(f: Filter) -> Iterator[Match]:
    if isinstance(f, Not):
        yield from _literal_matches(f.filter)
    elif isinstance(f, (And, Or)):
        for g in f.filters:
            yield from _literal_matches(g)
    elif isinstance(f, Match) and column(f.key) is None and ("%" in f.text or "_" in f.text):
        yield f


def loose_match(f: Match) -> str:
    """A LIKE on the JSON key that every row holding ``f.text`` matches: each ``%``
    and ``_`` of the text is a one-character wildcard. Rows it finds are then checked
    with ``holds`` (the wildcard also takes other characters)."""
    return f'metadata["{f.key}"] like {literal("%" + f.text.replace("%", "_") + "%", f.key)}'


def holds(f: Match, metadata: Mapping[str, Any]) -> bool:
    """Whether a row's metadata holds ``f.text`` in ``f.key`` (the exact check after ``loose_match``)."""
    value = metadata.get(f.key)
    return isinstance(value, str) and f.text in value


def _keyed(f: Filter, keys: Callable[[str], str]) -> Filter:
    """``f`` with its id and doc_id values as stored keys; a range there is refused
    (hashed keys have no order)."""
    if isinstance(f, Not):
        return Not(_keyed(f.filter, keys))
    if isinstance(f, (And, Or)):
        return type(f)(*(_keyed(g, keys) for g in f.filters))
    if column(f.key or "") not in KEY_COLUMNS:
        return f
    if isinstance(f, (Range, Match)):
        raise FilterError(f"filter '{f.key}': long ids are stored hashed, so ranges and text matches on ids "
                          "are not supported; filter ids by value or list")
    if isinstance(f, In):
        return In(f.key, tuple(keys(v) for v in f.values))  # type: ignore[arg-type]
    return f if f.value is None else Eq(f.key, keys(f.value))  # type: ignore[arg-type]


def _join(op: str, parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else f" {op} ".join(f"({p})" for p in parts)


def _expr(f: Filter, negated: bool, resolved: Resolved) -> str:
    """The rows ``f`` matches, or with ``negated`` exactly the others."""
    if isinstance(f, Not):
        return _expr(f.filter, not negated, resolved)
    if isinstance(f, (And, Or)):
        conj = isinstance(f, And) != negated  # De Morgan
        return _join("and" if conj else "or", [_expr(g, negated, resolved) for g in f.filters])
    assert isinstance(f, (Eq, In, Range, Match)) and f.key is not None
    if isinstance(f, Match) and f in resolved:  # an exact set of rows: its complement is every other row
        return f"id {'not in' if negated else 'in'} [{', '.join(literal(k, 'id') for k in resolved[f])}]"
    col = column(f.key)
    name = col or f'metadata["{f.key}"]'
    if isinstance(f, Eq) and f.value is None:
        if col is None:
            return f"exists {name}" if negated else f"not exists {name}"
        return f"{name} is not null" if negated else f"{name} is null"
    if not negated:
        return _positive(f, name, col)
    # The complement: rows without a value, plus rows whose value does not match.
    missing = f"not exists {name}" if col is None else (f"{name} is null" if col in NULLABLE else "")
    parts = [p for p in (missing, _negative(f, name, col)) if p]
    return _join("or", parts)


def _like(f: Match, col: str | None) -> str:
    """A LIKE pattern for "contains". On a column ``\\``, ``%`` and ``_`` are escaped;
    on a JSON key a backslash is itself, and ``%`` or ``_`` must have been resolved."""
    if col is not None:
        text = f.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    elif "%" in f.text or "_" in f.text:
        raise FilterError(f"filter '{f.key}': a metadata text match holding % or _ is resolved by the store "
                          "(MilvusStore.search/select); the bare expression cannot say it")
    else:
        text = f.text
    return literal(f"%{text}%", f.key)


def _positive(f: Eq | In | Range | Match, name: str, col: str | None) -> str:
    if isinstance(f, Match):
        return f"{name} like {_like(f, col)}"
    if isinstance(f, Eq):
        return f"{name} == {literal(f.value, f.key)}"
    if isinstance(f, In):
        values = [literal(v, f.key) for v in f.values]
        if col is not None:
            return f"{name} in [{', '.join(values)}]"
        return " or ".join(f"{name} == {v}" for v in values)  # Lite: "left side of 'in' must be a field reference"
    parts = []
    if f.lower is not None:
        parts.append(f"{name} {'>=' if f.gte is not None else '>'} {literal(f.lower, f.key or '')}")
    if f.upper is not None:
        parts.append(f"{name} {'<=' if f.lte is not None else '<'} {literal(f.upper, f.key or '')}")
    return " and ".join(parts)


def _negative(f: Eq | In | Range | Match, name: str, col: str | None) -> str:
    """Rows holding a value that ``f`` does not match (missing values aside)."""
    if isinstance(f, Match):  # `not like` holds for strings only: a number does not contain text either
        return f"not ({name} like {_like(f, col)})" + ("" if col else f" or ({name} >= 0 or {name} < 0)")
    if isinstance(f, Eq):
        return f"{name} != {literal(f.value, f.key)}"  # `!=` holds for a value of any other type too
    if isinstance(f, In):
        values = [literal(v, f.key) for v in f.values]
        if col is not None:
            return f"{name} not in [{', '.join(values)}]"
        return " and ".join(f"{name} != {v}" for v in values)
    key = f.key or ""
    parts = []
    if f.lower is not None:
        parts.append(f"{name} {'<' if f.gte is not None else '<='} {literal(f.lower, key)}")
    if f.upper is not None:
        parts.append(f"{name} {'>' if f.lte is not None else '>='} {literal(f.upper, key)}")
    if col is None:  # a JSON value of the other kind is outside the range too
        bound = f.lower if f.lower is not None else f.upper
        parts.append(f"({name} >= 0 or {name} < 0)" if isinstance(bound, str) else f'{name} like "%"')
    return " or ".join(parts)
