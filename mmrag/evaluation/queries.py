"""The queries file of ``mmrag eval``: JSONL, one query per line.

Each line holds ``query`` (text), ``image`` (a path, relative to the queries
file) or both, and what counts as relevant: either ``relevant``, a list of
``{"source", "page"|"slide"|"t"|"heading"|"sheet"+"row"}`` objects, or the same
keys at the top level for a single item. ``attachment`` (a mail attachment's
name, ``report.pdf`` or ``fwd.eml#report.pdf``) narrows an item to that child
source and may come with any one of the others. ``id`` and ``group`` (a label results are also summarised by) are
optional. Every problem is reported with its line number, before anything runs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mmrag.errors import InvalidArgument, MmragError

_LOCATION_KEYS = ("page", "slide", "t", "heading", "row", "sheet", "attachment")
_ITEM_KEYS = {"source", *_LOCATION_KEYS}
# Keys that may be given together in one item (a row of a sheet); any other two
# location keys name two different places.
_COMBINABLE = {"sheet", "row"}
_QUERY_KEYS = {"id", "query", "image", "relevant", "group"}


class QueriesFileError(MmragError):
    """A queries file line is not a valid query; the message names the file and line."""

    def __init__(self, path: str | Path, line: int, problem: str) -> None:
        self.path = str(path)
        self.line = line
        self.problem = problem
        super().__init__(f"{self.path}:{line}: {problem}" if line else f"{self.path}: {problem}")


@dataclass(frozen=True)
class Relevant:
    """One relevant item: a source, optionally narrowed to a page, a slide, a moment
    ``t`` (seconds), a heading (path), or a sheet and/or a 1-based row."""

    source: str
    page: int | None = None
    slide: int | None = None
    t: float | None = None
    heading: str | None = None
    row: int | None = None
    sheet: str | None = None
    attachment: str | None = None

    @property
    def level(self) -> str:
        """The finest level this item is matched at: ``page``, ``slide``, ``t``,
        ``heading``, ``row``, ``sheet``, ``attachment`` or ``source``."""
        return next((key for key in _LOCATION_KEYS if getattr(self, key) is not None), "source")


@dataclass(frozen=True)
class EvalQuery:
    """One query of a queries file with its relevant items.

    Example::

        EvalQuery(id="q1", text="crane capacity", relevant=(Relevant("harbour.pdf", page=2),))
    """

    id: str
    relevant: tuple[Relevant, ...]
    text: str | None = None
    image: str | None = None
    group: str | None = None
    line: int = 0

    @property
    def modality(self) -> str:
        """``text``, ``image`` or ``text+image``: the query side results are summarised by."""
        if self.text and self.image:
            return "text+image"
        return "image" if self.image else "text"


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _relevant_item(data: Any, where: str) -> Relevant:
    if not isinstance(data, dict):
        raise InvalidArgument(f"{where} must be an object with 'source', got {type(data).__name__}")
    unknown = set(data) - _ITEM_KEYS
    if unknown:
        raise InvalidArgument(f"{where} has unknown key(s) {', '.join(sorted(unknown))}; valid: source, {', '.join(_LOCATION_KEYS)}")
    source = data.get("source")
    if not isinstance(source, str) or not source.strip():
        raise InvalidArgument(f"{where} needs 'source', a non-empty string")
    given = [key for key in _LOCATION_KEYS if data.get(key) is not None and key != "attachment"]
    if len(given) > 1 and not set(given) <= _COMBINABLE:
        raise InvalidArgument(
            f"{where} gives {' and '.join(given)}; give at most one of page, slide, t, heading, row (row may come with sheet)"
        )
    for key in ("heading", "sheet", "attachment"):
        if data.get(key) is not None and (not isinstance(data[key], str) or not data[key].strip()):
            raise InvalidArgument(f"{where}: '{key}' must be a non-empty string, got {data[key]!r}")
    for key in ("page", "slide", "row"):
        if data.get(key) is not None and not _positive_int(data[key]):
            raise InvalidArgument(f"{where}: '{key}' must be an integer >= 1 (1-based), got {data[key]!r}")
    t = data.get("t")
    if t is not None and (isinstance(t, bool) or not isinstance(t, (int, float)) or t < 0):
        raise InvalidArgument(f"{where}: 't' must be a number of seconds >= 0, got {t!r}")
    return Relevant(
        source, data.get("page"), data.get("slide"), None if t is None else float(t),
        data.get("heading"), data.get("row"), data.get("sheet"), data.get("attachment"),
    )


def _query(data: Any, line: int, base: Path) -> EvalQuery:
    if not isinstance(data, dict):
        raise InvalidArgument(f"expected a JSON object, got {type(data).__name__}")
    unknown = set(data) - _QUERY_KEYS - _ITEM_KEYS
    if unknown:
        valid = ", ".join(sorted(_QUERY_KEYS | _ITEM_KEYS))
        raise InvalidArgument(f"unknown key(s) {', '.join(sorted(unknown))}; valid: {valid}")
    text, image = data.get("query"), data.get("image")
    if text is not None and (not isinstance(text, str) or not text.strip()):
        raise InvalidArgument("'query' must be a non-empty string")
    if image is not None and (not isinstance(image, str) or not image.strip()):
        raise InvalidArgument("'image' must be a path string")
    if text is None and image is None:
        raise InvalidArgument("needs 'query' (text), 'image' (a path) or both")
    if image is not None:
        path = Path(image) if Path(image).is_absolute() else base / image
        if not path.is_file():
            raise InvalidArgument(f"image {image!r} not found (looked at {path})")
        image = str(path)
    top_level = _ITEM_KEYS & set(data)
    if "relevant" in data and top_level:
        raise InvalidArgument(f"give 'relevant' or top-level {', '.join(sorted(top_level))}, not both")
    if "relevant" in data:
        items = data["relevant"]
        if not isinstance(items, list) or not items:
            raise InvalidArgument("'relevant' must be a non-empty list of {source, page|slide|t|heading|sheet|row} objects")
        relevant = tuple(_relevant_item(item, f"relevant[{i}]") for i, item in enumerate(items))
    elif top_level:
        relevant = (_relevant_item({key: data[key] for key in top_level}, "the relevant item"),)
    else:
        raise InvalidArgument(
            "needs the relevant item(s): 'source' (optionally 'page', 'slide', 't', 'heading', 'sheet', 'row') or 'relevant'"
        )
    group = data.get("group")
    if group is not None and not isinstance(group, str):
        raise InvalidArgument("'group' must be a string")
    qid = data.get("id", f"line-{line}")
    if not isinstance(qid, (str, int)) or isinstance(qid, bool):
        raise InvalidArgument("'id' must be a string or an integer")
    return EvalQuery(str(qid), relevant, text, image, group, line)


def parse_queries(lines: Iterable[str], name: str | Path = "<queries>", base: Path | None = None) -> list[EvalQuery]:
    """Queries from JSONL lines; blank lines are skipped. Raises ``QueriesFileError`` at the first bad line."""
    base = base or Path(".")
    queries: list[EvalQuery] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise QueriesFileError(name, number, f"invalid JSON: {exc.msg} (column {exc.colno})") from None
        try:
            query = _query(data, number, base)
        except ValueError as exc:
            raise QueriesFileError(name, number, str(exc)) from None
        if query.id in seen:
            raise QueriesFileError(name, number, f"duplicate id {query.id!r} (first on line {seen[query.id]})")
        seen[query.id] = number
        queries.append(query)
    if not queries:
        raise QueriesFileError(name, 0, "no queries (the file is empty)")
    return queries


def read_queries(path: str | Path) -> list[EvalQuery]:
    """Queries from a JSONL file; image paths are relative to the file's folder."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise QueriesFileError(path, 0, "no such file") from None
    except UnicodeDecodeError as exc:
        raise QueriesFileError(path, 0, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    return parse_queries(text.splitlines(), path, path.parent)


def queries_from_dicts(rows: Iterable[Mapping[str, Any]], base: Path | None = None) -> list[EvalQuery]:
    """Queries built in code (benchmarks) with the same validation as a file."""
    return parse_queries((json.dumps(dict(r)) for r in rows), "<queries>", base)
