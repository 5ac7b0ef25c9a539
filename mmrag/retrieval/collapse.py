"""One hit per place: a page render and its page's text are not shown twice.

A page-render chunk is stored beside its page's text chunks (linked both ways
by ``text_ids``/``image_ids``). When both match a query, the text hit stays and
the render is reachable through its ``image_ids``; listing both would spend two
of the user's ``k`` slots on one page.
"""

from __future__ import annotations

from collections.abc import Sequence

from mmrag.types import Hit, Modality


def collapse_page_renders(hits: Sequence[Hit]) -> list[Hit]:
    """``hits`` without the page renders whose page text is also among them (order kept)."""
    text_ids = {h.chunk.id for h in hits if h.chunk.modality is Modality.TEXT}
    return [
        h
        for h in hits
        if h.chunk.modality is not Modality.PAGE_IMAGE or not text_ids.intersection(h.chunk.metadata.get("text_ids", ()))
    ]
