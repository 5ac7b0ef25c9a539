"""Our filter algebra as Weaviate ``Filter`` objects (typed values, never a query string)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mmrag.errors import FilterError
from mmrag.stores.filters import FIELDS, And, Eq, Filters, In, Match, Not, Or, Range, to_filter
from mmrag.stores.filters import Filter as FilterNode
from mmrag.stores.weaviate.objects import meta_property

try:
    from weaviate.classes.query import Filter
except ImportError:  # pragma: no cover - exercised by the no-extras test run
    pass

FIELD_PROPS = {key: "chunk_id" if col == "id" else col for key, col in FIELDS.items()}  # Weaviate reserves ``id``
FIELD_TYPES = {"page": "int", "slide": "int", "t_start": "number", "t_end": "number"}


def _typed(value: Any, kind: str | None, key: str) -> Any:
    """A filter value in its property's type: Weaviate will not compare an int value with a number property."""
    if isinstance(value, bool) or kind not in ("int", "number") or not isinstance(value, (int, float)):
        return value
    if kind == "number":
        return float(value)
    if float(value) != int(value):
        raise FilterError(f"filter '{key}': {value} is not a whole number")
    return int(value)


def to_weaviate_filter(filters: Filters | None, meta_kinds: Mapping[str, str] | None = None) -> Any:
    """Our filters as a Weaviate ``Filter`` (``None`` for no filter). Values go into
    typed filter objects, never into a query string, so they cannot inject.
    ``Not`` is Weaviate's own NOT, an exact complement (rows without the property
    are kept, as in every store). ``meta_kinds`` maps ``meta_<key>`` properties to
    their Weaviate data type name."""
    f = to_filter(filters)
    return None if f is None else _weaviate_filter(f, {**FIELD_TYPES, **(meta_kinds or {})})


def _weaviate_filter(f: FilterNode, kinds: Mapping[str, str]) -> Any:
    parts = _conjuncts(f, kinds)
    return parts[0] if len(parts) == 1 else Filter.all_of(parts)


def _conjuncts(f: FilterNode, kinds: Mapping[str, str]) -> list[Any]:
    """``f`` as Weaviate filters that must all hold (nested ANDs and ranges flattened)."""
    if isinstance(f, And):
        return [p for g in f.filters for p in _conjuncts(g, kinds)]
    if isinstance(f, Not):
        return [Filter.not_(_weaviate_filter(f.filter, kinds))]
    if isinstance(f, Or):
        return [Filter.any_of([_weaviate_filter(g, kinds) for g in f.filters])]
    return _leaf_filters(f, kinds)


def _leaf_filters(f: FilterNode, kinds: Mapping[str, str]) -> list[Any]:
    assert isinstance(f, (Eq, In, Range, Match)) and f.key is not None
    name = FIELD_PROPS.get(f.key, meta_property(f.key))
    prop, kind = Filter.by_property(name), kinds.get(name)
    if isinstance(f, Match):
        if "*" in f.text or "?" in f.text:  # Weaviate's like has wildcards and no escape
            raise FilterError(f"filter '{f.key}': on Weaviate a text match cannot hold * or ?")
        return [prop.like(f"*{f.text}*")]
    if isinstance(f, Eq):
        return [prop.is_none(True) if f.value is None else prop.equal(_typed(f.value, kind, f.key))]
    if isinstance(f, In):
        return [prop.contains_any([_typed(v, kind, f.key) for v in f.values])]
    ops = [(f.gt, prop.greater_than), (f.gte, prop.greater_or_equal), (f.lt, prop.less_than), (f.lte, prop.less_or_equal)]
    return [op(_typed(bound, kind, f.key)) for bound, op in ops if bound is not None]
