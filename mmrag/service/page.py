"""The search page of ``mmrag serve``: one server-rendered HTML page, no build step.

A GET form (query, mode, modality, one ``key=value`` filter) renders the hits on the
server: thumbnail (``/chunks/{id}/image``), file, page/slide/moment, the matched text
with the query words marked, and the score. A transcript or video moment links to
``/files/{id}#t=START`` (a media fragment: the browser opens the source at that time
where it can play it). Every piece of text from the index or the request is escaped
here, in one place (``html.escape``); the only script hides a thumbnail a text-only
chunk does not have.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from mmrag.service.citations import where

MODES = ("hybrid", "dense", "bm25")
MODALITIES = ("", "text", "image", "page_image")
SNIPPET_CHARS = 400
_WORD = re.compile(r"\w{2,}", re.UNICODE)
# Not worth marking: they are in every passage (the ranking itself still sees them).
_COMMON = frozenset("a an and are as at be by for from how in is it of on or the this to was what when where which who with".split())

STYLE = """
body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:60rem;padding:1rem;color:#1b1b1b}
form{display:flex;gap:.5rem;flex-wrap:wrap;margin-bottom:1rem}
input[name=q]{flex:1 1 20rem;font-size:1.05rem;padding:.4rem}
input,select,button{padding:.35rem}
.hit{display:flex;gap:1rem;border-top:1px solid #ddd;padding:.75rem 0}.body{flex:1}
.thumb{width:160px;flex:none}.thumb img{max-width:160px;max-height:200px;border:1px solid #ccc}
.meta{color:#555;font-size:.9rem}.file{font-weight:600;color:#1b1b1b}
.score{float:right;font-variant-numeric:tabular-nums;color:#555}
mark{background:#ffe36e}.error{color:#a00}
"""

SCRIPT = """
document.addEventListener('keydown', e => {
  if (e.key === '/' && document.activeElement.tagName !== 'INPUT') { e.preventDefault(); document.querySelector('input[name=q]').focus(); }
});
"""


def query_words(query: str) -> list[str]:
    """The words to mark: two or more word characters and not a common word, longest first."""
    return sorted({w.lower() for w in _WORD.findall(query)} - _COMMON, key=len, reverse=True)


def highlight(text: str, query: str) -> str:
    """``text`` as HTML with each query word wrapped in ``<mark>``: split on the raw text,
    then every piece escaped, so nothing in the text or the query becomes markup. A word
    matches where a word starts ('crane' marks 'cranes', 'is' never marks 'this')."""
    words = query_words(query)
    if not words:
        return html.escape(text)
    pattern = re.compile(r"\b(" + "|".join(re.escape(w) for w in words) + ")", re.IGNORECASE)
    return "".join(f"<mark>{html.escape(p)}</mark>" if i % 2 else html.escape(p) for i, p in enumerate(pattern.split(text)))


def snippet(text: str) -> str:
    flat = " ".join(text.split())
    return flat[:SNIPPET_CHARS] + ("…" if len(flat) > SNIPPET_CHARS else "")


def render_hit(rank: int, hit: Mapping[str, Any], query: str) -> str:
    chunk_id = quote(str(hit["chunk_id"]), safe="")
    place = where(hit)
    if hit.get("start") is not None:  # a moment: open the source there
        place_html = (f'<a class="moment" href="/files/{chunk_id}#t={float(hit["start"]):g}">'
                      f"{html.escape(place)}</a>")
    else:
        place_html = html.escape(place)
    name = Path(str(hit["source"])).name
    text = snippet(str(hit.get("text") or "")) or f"({hit['modality']}: no text)"
    return (
        f'<div class="hit" data-rank="{rank}">'
        f'<div class="thumb"><img src="/chunks/{chunk_id}/image" alt="" loading="eager" onerror="this.remove()"></div>'
        f'<div class="body"><span class="score">{float(hit["score"]):.4f}</span>'
        f'<div><span class="rank">{rank}.</span> <a class="file" href="/files/{chunk_id}" title="{html.escape(str(hit["source"]))}">'
        f'{html.escape(name)}</a> <span class="place">{place_html}</span> '
        f'<span class="meta">[{html.escape(str(hit["modality"]))}]</span></div>'
        f'<div class="text">{highlight(text, query)}</div></div></div>'
    )


def _select(name: str, options: Sequence[str], chosen: str, labels: Mapping[str, str] | None = None) -> str:
    items = "".join(
        f'<option value="{html.escape(o)}"{" selected" if o == chosen else ""}>{html.escape((labels or {}).get(o, o))}</option>'
        for o in options
    )
    return f'<select name="{name}" aria-label="{name}">{items}</select>'


def render_page(
    query: str = "", mode: str = "hybrid", modality: str = "", extra_filter: str = "",
    hits: Sequence[Mapping[str, Any]] | None = None, error: str | None = None,
) -> str:
    """The whole page: the form with the request's values, then the hits (or the error)."""
    form = (
        '<form method="get" action="/" role="search">'
        f'<input name="q" value="{html.escape(query)}" placeholder="Search your documents" autofocus>'
        f'{_select("mode", MODES, mode)}'
        f'{_select("modality", MODALITIES, modality, {"": "any modality"})}'
        f'<input name="filter" value="{html.escape(extra_filter)}" placeholder="key=value" size="14">'
        '<button type="submit">Search</button></form>'
    )
    if error:
        body = f'<p class="error">{html.escape(error)}</p>'
    elif hits is None:
        body = '<p class="meta">Text search over every page, slide, picture and transcript. Press / to type.</p>'
    elif not hits:
        body = '<p class="meta">No hits. Try other words, bm25 for exact terms, or fewer filters.</p>'
    else:
        body = '<div id="hits">' + "".join(render_hit(i, h, query) for i, h in enumerate(hits, start=1)) + "</div>"
    title = f"{html.escape(query)} – mmrag" if query else "mmrag search"
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f'<meta name="viewport" content="width=device-width,initial-scale=1"><style>{STYLE}</style></head>'
        f"<body><h1>mmrag</h1>{form}{body}<script>{SCRIPT}</script></body></html>"
    )
