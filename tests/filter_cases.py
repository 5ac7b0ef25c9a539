"""Rows with missing keys, nulls and mixed value types, filters over them, and a
plain-Python reference of what each filter means: a leaf matches only a value of
a comparable type, and ``Not`` is the exact complement (rows without the key are
kept). The core, the LlamaIndex and the LangChain tests all check against it."""

from __future__ import annotations

from typing import Any

from mmrag.stores.filters import FIELDS, And, Eq, Filter, In, Match, Not, Or, Range, to_filter
from mmrag.types import Chunk, Modality

# (id, page, metadata): "lang" is missing, null, an int or a string; "n" a number, a string or a bool.
ROWS = [
    ("c0", 1, {"lang": "en", "n": 1, "tag": "50%_off"}),
    ("c1", None, {"lang": "de", "n": 2.5, "tag": "a\\b 50 off"}),
    ("c2", 3, {}),
    ("c3", 4, {"lang": 5, "n": "seven"}),
    ("c4", 5, {"lang": None, "n": 0}),
    ("c5", 6, {"lang": "en", "n": 4}),
]


def chunks() -> list[Chunk]:
    return [Chunk(id=i, doc_id=f"d{i}", source=f"{i}.txt", modality=Modality.TEXT, text=f"plain text row {i}",
                  page=page, metadata=meta) for i, page, meta in ROWS]


CASES: list[Filter | dict[str, Any]] = [
    Eq("lang", "en"),
    Not(Eq("lang", "en")),
    In("lang", ["en", "de"]),
    Not(In("lang", ["en", "de"])),
    Eq("lang", None),
    Not(Eq("lang", None)),
    Range("n", gte=1),
    Range("n", gt=1, lt=4),
    Not(Range("n", gte=1)),
    Not(Range("n", gt=1, lt=4)),
    Range("lang", gte="a"),
    Not(Range("lang", gte="a")),
    Eq("page", 1),
    Not(Eq("page", 1)),
    Not(In("page", [1, 3])),
    Not(Range("page", gte=4)),
    Or(Eq("lang", "de"), Range("page", gte=6)),
    Not(Or(Eq("lang", "de"), Range("page", gte=6))),
    Not(And(Eq("lang", "en"), Range("n", gte=2))),
    Not(Not(Eq("lang", "de"))),
    Match("lang", "n"),
    Not(Match("lang", "e")),
    Match("source", "c1."),
    Match("source", "%"),  # escaped: no source holds a percent sign
    Match("tag", "\\"),
    Not(Match("tag", "50")),
    Match("tag", "50%"),  # % and _ in a metadata value: literal, resolved by the store
    Match("tag", "%_"),
    Not(Match("tag", "0%_o")),
    Match("tag", "50_"),  # a loose LIKE takes "50%" and "50 ": only the exact check tells
    Or(Match("tag", "_off"), Eq("lang", "de")),
    {"$or": [{"lang": "de"}, {"n": {"$lt": 1}}], "page": {"$ne": 4}},
    {"lang": {"$nin": ["en"]}, "n": {"$exists": True}},
]


def _value(chunk: Chunk, key: str) -> Any:
    if key in FIELDS:
        return getattr(chunk, {"t_start": "start", "t_end": "end"}.get(FIELDS[key], FIELDS[key]))
    return chunk.metadata.get(key)


def _comparable(value: Any, other: Any) -> bool:
    return value is not None and isinstance(value, str) == isinstance(other, str) and not isinstance(value, (list, dict))


def matches(f: Filter, chunk: Chunk) -> bool:
    if isinstance(f, Not):
        return not matches(f.filter, chunk)
    if isinstance(f, And):
        return all(matches(g, chunk) for g in f.filters)
    if isinstance(f, Or):
        return any(matches(g, chunk) for g in f.filters)
    assert isinstance(f, (Eq, In, Range, Match)) and f.key is not None
    value = _value(chunk, f.key)
    if isinstance(f, Match):
        return isinstance(value, str) and f.text in value
    if isinstance(f, Eq):
        return value is None if f.value is None else _comparable(value, f.value) and value == f.value
    if isinstance(f, In):
        return any(_comparable(value, v) and value == v for v in f.values)
    bound = f.lower if f.lower is not None else f.upper
    if not _comparable(value, bound):
        return False
    return ((f.gt is None or value > f.gt) and (f.gte is None or value >= f.gte)
            and (f.lt is None or value < f.lt) and (f.lte is None or value <= f.lte))


def expected(filters: Filter | dict[str, Any]) -> set[str]:
    f = to_filter(filters)
    assert f is not None
    return {c.id for c in chunks() if matches(f, c)}
