"""How a hit is cited to a person or a model: file, page, slide or moment.

Kept apart from the servers so the MCP text, the HTTP page, the CLI and the
LangChain and LlamaIndex agent tools agree."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any


def clock(seconds: float) -> str:
    """``754.2`` -> ``12:34``; an hour or more -> ``1:02:03``."""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def where(hit: Mapping[str, Any]) -> str:
    """The location part of a citation: ``p. 2``, ``slide 3`` or ``12:34–13:10``."""
    if hit.get("start") is not None:
        return f"{clock(hit['start'])}–{clock(hit['end'])}"
    if hit.get("slide") is not None:
        return f"slide {hit['slide']}"
    if hit.get("page") is not None:
        return f"p. {hit['page']}"
    return ""


def cite(hit: Mapping[str, Any]) -> str:
    """``harbour.pdf, p. 2``: the file name and the place in it."""
    name = Path(hit["source"]).name
    place = where(hit)
    return f"{name}, {place}" if place else name


def numbered(hits: list[Mapping[str, Any]], max_chars: int = 1200) -> str:
    """Numbered passages an LLM can quote: ``[1] file, p. 2 (chunk id)`` then the text."""
    if not hits:
        return "No hits. Try other words, mode bm25 for exact terms, or fewer filters."
    parts = []
    for n, hit in enumerate(hits, start=1):
        text = " ".join(hit["text"].split()) or f"({hit['modality']}: no text; call page_image to look at it)"
        if len(text) > max_chars:
            text = text[:max_chars] + "…"
        parts.append(f"[{n}] {cite(hit)} (chunk_id {hit['chunk_id']}, score {hit['score']:.3f})\n{text}")
    return "\n\n".join(parts)
