"""The text a deck holds outside plain text frames: tables, charts, and
text bodies python-pptx does not iterate (``mc:AlternateContent`` wrappers,
shapes of a kind it does not know). Each returns plain text, "" when there is none.

Hand-written because no kept library reads these: python-pptx exposes charts and
tables as objects, not text, and skips shapes it cannot type.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from lxml import etree

NS = {
    "a": "http://schemas.openxmlformats.org/drawingml/2006/main",
    "p": "http://schemas.openxmlformats.org/presentationml/2006/main",
    "mc": "http://schemas.openxmlformats.org/markup-compatibility/2006",
    "m": "http://schemas.openxmlformats.org/officeDocument/2006/math",
    "c": "http://schemas.openxmlformats.org/drawingml/2006/chart",
}
# Compiled, because python-pptx's element classes override ``xpath`` with their own namespaces.
_PARAS = etree.XPath("./a:p", namespaces=NS)
_RUN_TEXT = etree.XPath(".//a:t | .//m:t | .//a:br", namespaces=NS)
_ANY_TEXT = etree.XPath(".//a:t | .//m:t", namespaces=NS)
_X_VALUES = etree.XPath("./c:xVal//c:pt/c:v/text()", namespaces=NS)
_CHOICES = etree.XPath("./mc:Choice", namespaces=NS)
_FALLBACKS = etree.XPath("./mc:Fallback", namespaces=NS)
_ALTERNATES = etree.XPath("ancestor::mc:AlternateContent", namespaces=NS)


def number(value: float | None) -> str:
    """A chart value as written: ``19`` not ``19.0``; a gap stays empty."""
    if value is None:
        return ""
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def _cell(text: str) -> str:
    return " ".join(text.split())


def table_text(table) -> str:
    """Rows as ``header: value | header: value`` so each line reads on its own;
    the first row is the header (a one-row table is just its cells)."""
    rows = [[_cell(cell.text) for cell in row.cells] for row in table.rows]
    rows = [r for r in rows if any(r)]
    if len(rows) < 2:
        return "\n".join(" | ".join(c for c in r if c) for r in rows)
    header, body = rows[0], rows[1:]
    lines = []
    for row in body:
        pairs = [f"{h}: {v}" if h else v for h, v in zip(header, row) if v]
        lines.append(" | ".join(pairs))
    return "\n".join(line for line in lines if line)


def _axis_title(chart, axis: str) -> str:
    try:
        ax = getattr(chart, axis)
    except (ValueError, NotImplementedError):  # pie charts have no axes
        return ""
    return _cell(ax.axis_title.text_frame.text) if ax.has_title else ""


def _labels(plot) -> list[str]:
    cats = plot.categories
    if cats.depth > 1:
        return [" / ".join(_cell(str(p)) for p in labels) for labels in cats.flattened_labels]
    return [_cell(str(c)) for c in cats]


def _x_values(series) -> list[str]:
    """X values of an XY or bubble series (python-pptx reads only the Y values)."""
    return _X_VALUES(series._element)


def chart_text(chart) -> str:
    """Title, axis titles, then one line per series: ``name: category: value | ...``."""
    lines = []
    if chart.has_title and chart.chart_title.has_text_frame:
        title = _cell(chart.chart_title.text_frame.text)
        if title:
            lines.append(f"Chart: {title}")
    axes = [t for t in (_axis_title(chart, "category_axis"), _axis_title(chart, "value_axis")) if t]
    if axes:
        lines.append("Axes: " + "; ".join(axes))
    for plot in chart.plots:
        labels = _labels(plot)
        for series in plot.series:
            values = [number(v) for v in series.values]
            keys = _x_values(series) if not labels and hasattr(series, "iter_values") else labels
            if keys:
                pairs = [f"{k}: {v}" for k, v in zip(keys, values) if v != ""]
            else:
                pairs = [v for v in values if v != ""]
            name = _cell(series.name or "") or "Series"
            if pairs:
                lines.append(f"{name}: " + " | ".join(pairs))
    return "\n".join(lines)


def body_text(tx_body) -> str:
    """A text body's paragraphs, one line each; equation runs (``m:t``) and fields
    included, a line break read as a space."""
    lines = []
    for para in _PARAS(tx_body):
        parts = _RUN_TEXT(para)
        line = "".join(" " if etree.QName(e).localname == "br" else (e.text or "") for e in parts)
        if line.strip():
            lines.append(line.strip())
    return "\n".join(lines)


def _chosen(alternate) -> Any | None:
    """The branch of an ``mc:AlternateContent`` that holds text: the first Choice
    with any, else the Fallback (readers show one branch, so text is never doubled)."""
    branches = [*_CHOICES(alternate), *_FALLBACKS(alternate)]
    for branch in branches:
        if _ANY_TEXT(branch):
            return branch
    return None


def loose_text_bodies(sp_tree, seen: Iterable[Any]) -> Iterator[Any]:
    """Text bodies in the slide's shape tree that no shape object read (``seen``
    holds the bodies that were): inside ``mc:AlternateContent``, or in shapes
    python-pptx does not type."""
    seen = set(seen)
    for body in sp_tree.iter(f"{{{NS['p']}}}txBody"):
        if body in seen:
            continue
        outer = _ALTERNATES(body)
        if outer:
            chosen = _chosen(outer[0])
            if chosen is None or chosen not in set(body.iterancestors()):
                continue
        yield body
