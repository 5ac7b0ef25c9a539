"""Does a hit find a relevant item? Pure functions over hit dicts (``Hit.to_dict()``),
so hits from any retriever can be judged the same way."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import PurePath
from typing import Any

from mmrag.evaluation.queries import Relevant


def source_matches(wanted: str, got: str) -> bool:
    """True when ``got`` is ``wanted`` or ends with it as whole path parts: a queries
    file can name ``report.pdf`` or ``docs/report.pdf`` for ``/data/docs/report.pdf``."""
    w, g = PurePath(wanted).parts, PurePath(got).parts
    return 0 < len(w) <= len(g) and g[len(g) - len(w):] == w


def heading_matches(wanted: str, got: str | None) -> bool:
    """True when the heading path ``got`` holds ``wanted`` as whole, consecutive parts
    (case and spacing aside): ``Costs`` or ``Plan > Costs`` find a hit under
    ``Plan > Costs > Q3``, and ``Cost`` finds none of them."""
    if not got:
        return False

    def parts(path: str) -> list[str]:
        return [" ".join(p.split()).casefold() for p in path.split(">") if p.strip()]

    w, g = parts(wanted), parts(got)
    return bool(w) and any(g[i : i + len(w)] == w for i in range(len(g) - len(w) + 1))


def chain_matches(wanted: str, got: str | None) -> bool:
    """True when the attachment chain ``got`` (``fwd.eml#report.pdf``) ends with
    ``wanted`` as whole names: ``report.pdf`` finds it, ``port.pdf`` does not."""
    w, g = wanted.split("#"), (got or "").split("#")
    return bool(got) and 0 < len(w) <= len(g) and g[len(g) - len(w):] == w


def hit_files(hit: Mapping[str, Any]) -> list[str]:
    """The sources a hit counts for: its own, and for a mail attachment
    (``mail.eml#report.pdf``) the mail file it came in."""
    source, attachment = str(hit.get("source") or ""), hit.get("attachment")
    out = [source]
    if attachment and source.endswith("#" + attachment):
        out.append(source[: -len(attachment) - 1])
    return out


def hit_matches(item: Relevant, hit: Mapping[str, Any]) -> bool:
    """Whether ``hit`` is ``item`` at the item's level: same source (a mail's
    attachment counts for the mail), the same attachment when one is named, and
    the same page, the same slide, a start-end span that covers ``t``, the
    heading, or the same sheet and a row span that covers ``row``."""
    if not any(source_matches(item.source, s) for s in hit_files(hit)):
        return False
    if item.attachment is not None and not chain_matches(item.attachment, hit.get("attachment")):
        return False
    if item.sheet is not None and hit.get("sheet") != item.sheet:
        return False
    if item.row is not None:
        first, last = hit.get("row_start"), hit.get("row_end")
        return first is not None and last is not None and first <= item.row <= last
    if item.heading is not None:
        return heading_matches(item.heading, hit.get("heading"))
    if item.page is not None:
        return hit.get("page") == item.page
    if item.slide is not None:
        return hit.get("slide") == item.slide
    if item.t is not None:
        start, end = hit.get("start"), hit.get("end")
        return start is not None and end is not None and start <= item.t <= end
    return True


def judge(hits: Sequence[Mapping[str, Any]], relevant: Sequence[Relevant]) -> list[bool]:
    """Per hit, whether it finds a relevant item not found by a higher hit.

    Each relevant item counts once: two chunks of the same relevant page do not
    make recall or nDCG exceed what finding that page is worth.
    """
    found: set[int] = set()
    out: list[bool] = []
    for hit in hits:
        new = next((i for i, item in enumerate(relevant) if i not in found and hit_matches(item, hit)), None)
        if new is not None:
            found.add(new)
        out.append(new is not None)
    return out
