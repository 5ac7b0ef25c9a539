"""LlamaIndex ``MetadataFilters`` as an mmrag filter: a pure type translation.

Every operator with a meaning in mmrag's filter algebra maps onto it (``==``,
``!=``, ``>``, ``>=``, ``<``, ``<=``, ``in``, ``nin``, ``text_match`` as a
case-sensitive substring, ``is_empty`` as mmrag's missing-or-null ``Eq(key, None)``;
an empty string or list is a value there), conditions map to ``And``,
``Or`` and, for ``NOT``, "none of these" (as LlamaIndex's own in-memory store
reads it), nested filters nest. ``!=``, ``nin`` and ``NOT`` keep nodes that lack
the key, as LlamaIndex's in-memory filters do. Anything else raises naming what
is supported, never a silently wider or narrower answer.
"""

from __future__ import annotations

from llama_index.core.vector_stores.types import FilterCondition, FilterOperator, MetadataFilter, MetadataFilters

from mmrag import And, Eq, Filter, In, Match, Not, Or, Range
from mmrag.errors import FilterError

_RANGES = {FilterOperator.GT: "gt", FilterOperator.GTE: "gte", FilterOperator.LT: "lt", FilterOperator.LTE: "lte"}
SUPPORTED = ("==", "!=", ">", ">=", "<", "<=", "in", "nin", "text_match", "is_empty")


def to_mmrag_filters(filters: MetadataFilters | None) -> Filter | None:
    """The mmrag filter for ``filters`` (None when there is nothing to filter on)."""
    if filters is None:
        return None
    parts = [p for p in map(_part, filters.filters) if p is not None]
    if not parts:
        return None
    condition = filters.condition or FilterCondition.AND
    if condition is FilterCondition.AND:
        return parts[0] if len(parts) == 1 else And(*parts)
    anyof = parts[0] if len(parts) == 1 else Or(*parts)
    if condition is FilterCondition.OR:
        return anyof
    if condition is FilterCondition.NOT:
        return Not(anyof)
    raise FilterError(f"filter condition {condition.value!r} is not supported; use and, or or not")


def _part(f: MetadataFilter | MetadataFilters) -> Filter | None:
    if isinstance(f, MetadataFilters):
        return to_mmrag_filters(f)
    op, key, value = f.operator, f.key, f.value
    if op is FilterOperator.EQ:
        return Eq(key, value)
    if op is FilterOperator.NE:
        return Not(Eq(key, value))
    if op in _RANGES:
        return Range(key, **{_RANGES[op]: value})
    if op in (FilterOperator.IN, FilterOperator.NIN):
        values = In(key, tuple(value) if isinstance(value, (list, tuple, set)) else (value,))
        return values if op is FilterOperator.IN else Not(values)
    if op is FilterOperator.TEXT_MATCH:
        return Match(key, value)
    if op is FilterOperator.IS_EMPTY:
        return Eq(key, None)
    raise FilterError(f"filter '{key}': operator {op.value!r} is not supported; use {', '.join(SUPPORTED)}")
