"""Metadata filters as a small typed algebra that every store translates.

``Eq``, ``In``, ``Range``, ``Match``, ``Not``, ``And`` and ``Or`` are plain frozen records,
validated on construction; ``to_filter`` builds them from the dict form that the
CLI, the service and the adapters pass (``{"topic": ["a", "b"]}`` is "any of",
``{"page": Range(gte=2)}`` a range, ``{"page": {"$gte": 2}}`` Mongo style, as
LangChain vector stores take it). Each store turns the result into its own query
language in a pure function (``stores/milvus/filters.py``, ``stores/weaviate/filters.py``).

Semantics, the same on every store: a leaf matches a row only where the key holds
a value of a comparable type; ``Not`` is the exact complement, so ``Not(Eq("lang",
"en"))`` also keeps rows that have no ``lang`` at all (what "not English" means to
a reader, and what LlamaIndex's own in-memory filters do).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Union

from mmrag.errors import FilterError, InvalidArgument
from mmrag.types import Modality

Scalar = Union[bool, int, float, str]

# Public filter keys of the chunk fields -> the column both stores keep them in
# (Weaviate renames ``id``, which it reserves). Any other key is a metadata key.
FIELDS = {
    "id": "id",
    "chunk_id": "id",
    "doc_id": "doc_id",
    "source": "source",
    "modality": "modality",
    "page": "page",
    "slide": "slide",
    "start": "t_start",
    "end": "t_end",
}
COLUMN_KINDS = {"id": str, "doc_id": str, "source": str, "modality": str, "page": int, "slide": int,
                "t_start": float, "t_end": float}
NULLABLE = frozenset({"page", "slide", "t_start", "t_end"})

_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


def column(key: str) -> str | None:
    """The chunk column a key filters on, None for a metadata key."""
    return FIELDS.get(key)


def _check_key(key: Any) -> str:
    if not isinstance(key, str) or not _KEY.match(key):
        raise FilterError(f"invalid filter key {key!r}: use letters, digits and _ (at most 64, not starting with a digit)")
    return key


def _check_value(key: str, value: Any) -> Scalar:
    """A scalar of the kind the key's column holds (metadata keys take any scalar)."""
    if not isinstance(value, (bool, int, float, str)):
        raise FilterError(f"filter '{key}': unsupported value type {type(value).__name__}; use str, int, float or bool")
    if isinstance(value, float) and not math.isfinite(value):
        raise FilterError(f"filter '{key}': {value} is not a finite number")
    kind = COLUMN_KINDS.get(FIELDS.get(key, ""))
    if kind is str and not isinstance(value, str):
        raise FilterError(f"filter '{key}': {key} is a string, got {value!r}")
    if key == "modality":
        try:
            Modality.parse(value)
        except InvalidArgument as exc:
            raise FilterError(f"filter 'modality': {exc}") from None
    if kind in (int, float) and (isinstance(value, (bool, str)) or (kind is int and value != int(value))):
        raise FilterError(f"filter '{key}': {key} is a {'whole ' if kind is int else ''}number, got {value!r}")
    return int(value) if kind is int else value


class Filter:
    """A filter node; combine with ``&``, ``|`` and ``~``."""

    def __and__(self, other: Filter) -> Filter:
        return And(self, other)

    def __or__(self, other: Filter) -> Filter:
        return Or(self, other)

    def __invert__(self) -> Filter:
        return Not(self)


@dataclass(frozen=True)
class Eq(Filter):
    """``key == value``; ``value=None`` matches rows where the key is missing or null."""

    key: str
    value: Scalar | None

    def __post_init__(self) -> None:
        _check_key(self.key)
        if self.value is not None:
            object.__setattr__(self, "value", _check_value(self.key, self.value))


@dataclass(frozen=True)
class In(Filter):
    """``key`` equals any of ``values`` (kept sorted and unique, so translations are stable)."""

    key: str
    values: tuple[Scalar, ...]

    def __post_init__(self) -> None:
        _check_key(self.key)
        if isinstance(self.values, (str, bytes)) or not isinstance(self.values, Iterable):
            raise FilterError(f"filter '{self.key}': 'in' takes a list of values, got {self.values!r}")
        values = {repr(v): _check_value(self.key, v) for v in self.values}
        if not values:
            raise FilterError(f"filter '{self.key}': an empty list matches nothing")
        object.__setattr__(self, "values", tuple(values[r] for r in sorted(values)))


@dataclass(frozen=True)
class Range(Filter):
    """``gt``/``gte`` < value < ``lt``/``lte`` (either side may be open). In the dict
    form the key comes from the dict: ``{"page": Range(gte=2)}``."""

    key: str | None = None
    gt: float | str | None = None
    gte: float | str | None = None
    lt: float | str | None = None
    lte: float | str | None = None

    def __post_init__(self) -> None:
        name = "Range" if self.key is None else f"filter '{_check_key(self.key)}'"
        if self.gt is not None and self.gte is not None or self.lt is not None and self.lte is not None:
            raise FilterError(f"{name}: give gt or gte (and lt or lte), not both")
        bounds = [b for b in (self.lower, self.upper) if b is not None]
        if not bounds:
            raise FilterError(f"{name} needs a bound: gt, gte, lt or lte")
        for bound in bounds:
            if isinstance(bound, bool) or not isinstance(bound, (int, float, str)):
                raise FilterError(f"{name}: bounds are numbers or strings, got {bound!r}")
            if isinstance(bound, float) and not math.isfinite(bound):
                raise FilterError(f"{name}: {bound} is not a finite number")
            kind = COLUMN_KINDS.get(FIELDS.get(self.key or "", ""))
            if kind is not None and (kind is str) != isinstance(bound, str):
                raise FilterError(f"{name}: {self.key} is a {'string' if kind is str else 'number'}, got bound {bound!r}")
        if len(bounds) == 2:
            lo, hi = bounds
            if isinstance(lo, str) != isinstance(hi, str):
                raise FilterError(f"{name}: both bounds must be numbers or both strings, got {lo!r} and {hi!r}")
            if lo > hi or lo == hi and (self.gt is not None or self.lt is not None):  # type: ignore[operator]
                raise FilterError(f"{name} matches nothing: the lower bound {lo!r} is not below the upper bound {hi!r}")

    @property
    def lower(self) -> float | str | None:
        return self.gte if self.gte is not None else self.gt

    @property
    def upper(self) -> float | str | None:
        return self.lte if self.lte is not None else self.lt


@dataclass(frozen=True)
class Match(Filter):
    """The key's string value contains ``text`` (case-sensitive; LlamaIndex's ``text_match``)."""

    key: str
    text: str

    def __post_init__(self) -> None:
        _check_key(self.key)
        if not isinstance(self.text, str) or not self.text:
            raise FilterError(f"filter '{self.key}': text match takes a non-empty string, got {self.text!r}")
        if COLUMN_KINDS.get(FIELDS.get(self.key, ""), str) is not str:
            raise FilterError(f"filter '{self.key}': {self.key} is a number; text match works on strings")


@dataclass(frozen=True, init=False)
class _Many(Filter):
    filters: tuple[Filter, ...]

    def __init__(self, *filters: Filter) -> None:
        if not filters:
            raise FilterError(f"{type(self).__name__} needs at least one filter")
        for f in filters:
            _check_node(f)
        object.__setattr__(self, "filters", tuple(filters))


class And(_Many):
    """Every one of ``filters`` matches."""


class Or(_Many):
    """At least one of ``filters`` matches."""


@dataclass(frozen=True)
class Not(Filter):
    """The exact complement of ``filter``: rows without the key are kept too."""

    filter: Filter

    def __post_init__(self) -> None:
        _check_node(self.filter)


def _check_node(f: Any) -> None:
    if not isinstance(f, Filter):
        raise FilterError(f"expected a filter (Eq, In, Range, Match, Not, And, Or), got {type(f).__name__}")
    if isinstance(f, Range) and f.key is None:
        raise FilterError("a Range outside a dict needs its key: Range('page', gte=2)")


Filters = Union[Mapping[str, Any], Filter]
"""A ``Filter``, or the dict form: ``{key: value}`` where a scalar means equality,
a list/tuple/set "any of", ``None`` "missing", a ``Range`` a range, and a dict of
``$eq $ne $gt $gte $lt $lte $in $nin $exists $not`` operators; top-level ``$and``,
``$or`` and ``$not`` combine dicts. Keys are chunk fields (``source``, ``page``,
``start``...) or metadata keys."""

_OPS = ("$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$exists", "$not")
_LOGIC = ("$and", "$or", "$not")


def to_filter(filters: Filters | None) -> Filter | None:
    """The one ``Filter`` for ``filters`` (None or an empty dict: no filter)."""
    if filters is None:
        return None
    if isinstance(filters, Filter):
        _check_node(filters)
        return filters
    if not isinstance(filters, Mapping):
        raise FilterError(f"filters are a dict or an mmrag filter (Eq, In, Range, ...), got {type(filters).__name__}")
    parts = [_entry(key, value) for key, value in filters.items()]
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else And(*parts)


def _entry(key: str, value: Any) -> Filter:
    if isinstance(key, str) and key.startswith("$"):
        if key not in _LOGIC:
            raise FilterError(f"unknown filter operator {key!r} at the top level; valid: {', '.join(_LOGIC)}")
        if key == "$not":
            inner = to_filter(value)
            if inner is None:
                raise FilterError("$not needs a non-empty filter")
            return Not(inner)
        if isinstance(value, (str, Mapping)) or not isinstance(value, Iterable):
            raise FilterError(f"{key} takes a list of filters, got {value!r}")
        subs = [to_filter(v) for v in value]
        if not subs or any(s is None for s in subs):
            raise FilterError(f"{key} needs a list of non-empty filters")
        return (And if key == "$and" else Or)(*subs)  # type: ignore[arg-type]
    _check_key(key)
    if isinstance(value, Range):
        if value.key not in (None, key):
            raise FilterError(f"filter '{key}' holds a Range on another key, '{value.key}'")
        return replace(value, key=key)
    if isinstance(value, Filter):
        raise FilterError(f"filter '{key}': a dict value is a value, a list, a Range or a dict of $ operators; "
                          "combine filters with mmrag.And, Or and Not")
    if isinstance(value, Mapping):
        return _operators(key, value)
    if isinstance(value, (list, tuple, set, frozenset)):
        return In(key, tuple(value))
    return Eq(key, value)


def _operators(key: str, ops: Mapping[str, Any]) -> Filter:
    """``{"$gte": 2, "$lt": 5}`` on one key: every operator holds."""
    if not ops:
        raise FilterError(f"filter '{key}': an empty operator dict; use e.g. {{'$eq': value}}")
    parts: list[Filter] = []
    for op, arg in ops.items():
        if op not in _OPS:
            raise FilterError(f"filter '{key}': unknown operator {op!r}; valid: {', '.join(_OPS)}")
        if op in ("$eq", "$ne"):
            leaf: Filter = Eq(key, arg)
            parts.append(Not(leaf) if op == "$ne" else leaf)
        elif op in ("$in", "$nin"):
            if isinstance(arg, (str, Mapping)) or not isinstance(arg, Iterable):
                raise FilterError(f"filter '{key}': {op} takes a list of values, got {arg!r}")
            leaf = In(key, tuple(arg))
            parts.append(Not(leaf) if op == "$nin" else leaf)
        elif op == "$exists":
            if not isinstance(arg, bool):
                raise FilterError(f"filter '{key}': $exists takes true or false, got {arg!r}")
            parts.append(Not(Eq(key, None)) if arg else Eq(key, None))
        elif op == "$not":
            if not isinstance(arg, Mapping):
                raise FilterError(f"filter '{key}': $not takes a dict of operators, got {arg!r}")
            parts.append(Not(_operators(key, arg)))
        else:
            parts.append(Range(key, **{op[1:]: arg}))
    return parts[0] if len(parts) == 1 else And(*parts)


# What a CLI filter value may be: chunk fields that hold numbers take numbers,
# and integers fit the stores' 64-bit columns. Said here, in words, rather than
# as the database's type error.
CLI_NUMERIC_KEYS = frozenset({"page", "slide", "start", "end"})
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def parse_cli_filters(pairs: list[str], option: str = "--filter") -> dict[str, Any]:
    """``["page=3", "source=a.pdf"]`` to a filter dict; integers stay integers.
    ``option`` is what errors call the input (the HTTP API's query parameter ``filter``)."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise FilterError(f"{option} {pair!r}: expected key=value")
        value: Any = int(raw) if re.fullmatch(r"-?\d+", raw) else raw
        if key in CLI_NUMERIC_KEYS and isinstance(value, str):
            if not re.fullmatch(r"-?(\d+\.\d*|\.\d+)", raw):
                raise FilterError(f"{option} {pair!r}: {key} takes a number, got {raw!r}")
            value = float(raw)  # start=12.5 (seconds)
        if isinstance(value, int) and not INT64_MIN <= value <= INT64_MAX:
            raise FilterError(f"{option} {pair!r}: {raw} is out of range (a 64-bit integer: {INT64_MIN}..{INT64_MAX})")
        if key in out:  # a repeated key means "any of these values"
            prev = out[key]
            value = [*prev, value] if isinstance(prev, list) else [prev, value]
        out[key] = value
    return out
