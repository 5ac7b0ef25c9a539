"""Mail: .eml (one message) and .mbox (one unit per message), with the stdlib
``email`` package (``policy.default``). Subject, from, to and date go into each
element's metadata, so they can be filtered; the body is the text/plain part or
the HTML part read as a page, of two alternatives the richer (``choose_body``).
Each attachment is read by its own loader as a child source
(``mail.eml#report.pdf``, see ``mmrag.loaders.attachments``)."""

from __future__ import annotations

import mailbox
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from mmrag.errors import LoaderError
from mmrag.loaders.attachments import MESSAGE_PART, attachment_elements, inside, message_identity, named_parts
from mmrag.loaders.base import Loader, TextFormatLoader
from mmrag.loaders.decoding import read_bounded
from mmrag.loaders.html import html_elements, parse_html
from mmrag.types import Element, Modality


MAX_MAIL_BYTES = 256 * 1024 * 1024  # one .eml; a mailbox is streamed message by message
RICHER_HTML = 1.5  # an HTML alternative with this many times the plain part's distinct words is read instead
_WORD = re.compile(r"\w+")


def headers(msg: EmailMessage) -> dict[str, Any]:
    """Subject, from, to and date (ISO 8601 when it parses) as filterable metadata."""
    out: dict[str, Any] = {}
    for key in ("subject", "from", "to"):
        value = msg.get(key)
        if value:
            out[key] = " ".join(str(value).split())
    raw_date = msg.get("date")
    if raw_date:
        try:
            out["date"] = parsedate_to_datetime(str(raw_date)).isoformat()
        except (TypeError, ValueError):
            out["date"] = str(raw_date)
    return out


@dataclass(frozen=True)
class Mail:
    """One message, whatever file it came in (.eml, .mbox, .msg): its headers as
    metadata, its body, and its attachments as (unique name, bytes)."""

    meta: dict[str, Any]
    identity: str  # Message-ID or digest, for the loop guard
    text: str = ""
    html: str = ""
    parts: list[tuple[str, bytes]] = field(default_factory=list)
    raw_date: str = ""  # the Date header as written (its words are searchable; metadata keeps ISO 8601)


def html_text(html: str) -> str:
    """The words of an HTML body or part, as the page loader reads them (scripts, styles dropped)."""
    return " ".join(e.text for e in html_elements(parse_html(html.encode("utf-8"), "utf-8"), "", resolve=lambda s: None)
                    if e.modality is Modality.TEXT)


def choose_body(plain: str, html: str) -> tuple[str, str]:
    """(text, html) with one of them empty: which of two alternatives of one body
    to read, decided by content. The plain part, as mail clients that show text
    do, unless the HTML holds ``RICHER_HTML`` times its distinct words or more:
    then the plain part is a stub ("view this mail in a browser") or cut short,
    and the HTML says what the mail says. Both are never read: they are one text
    twice, and every hit would come back two times."""
    if not html.strip():
        return plain, ""
    if not plain.strip():
        return "", html
    plain_words, html_words = _WORD.findall(plain.lower()), _WORD.findall(html_text(html).lower())
    return ("", html) if len(set(html_words)) >= RICHER_HTML * len(set(plain_words)) else (plain, "")


def _content(part: EmailMessage, path: Path) -> str:
    try:
        return part.get_content()
    except (LookupError, ValueError) as exc:  # an unknown charset or a broken transfer encoding
        raise LoaderError(path, f"unreadable mail body ({part.get_content_type()}): {exc}") from exc


def _html_alternative(msg: EmailMessage, plain: EmailMessage) -> EmailMessage | None:
    """The HTML part offered as an alternative of the same body as ``plain`` (the
    ``multipart/alternative`` that holds it), if any."""
    for container in _containers(msg):
        if container.get_content_type() == "multipart/alternative" and any(p is plain for p in container.iter_parts()):
            return container.get_body(preferencelist=("html",))  # type: ignore[return-value]
    return None


def mail_of(msg: EmailMessage, path: Path, data: bytes | None = None) -> Mail:
    """A MIME message as a ``Mail``: its body is the text/plain part or the HTML
    one, the richer of two alternatives (``choose_body``)."""
    body = msg.get_body(preferencelist=("plain", "html"))
    content = _content(body, path) if body is not None else ""  # type: ignore[arg-type]
    html = body is not None and body.get_content_type() == "text/html"
    text, html_text_ = ("" if html else content), (content if html else "")
    alternative = _html_alternative(msg, body) if body is not None and not html else None  # type: ignore[arg-type]
    if alternative is not None:
        text, html_text_ = choose_body(text, _content(alternative, path))
        body = alternative if html_text_ else body
    extra = _inline_texts(msg, body)
    if extra:  # text parts of a multipart/mixed that are neither the body nor attachments
        text = "\n\n".join(t for t in (text, *extra) if t.strip())
    return Mail(
        headers(msg), message_identity(msg, data), text, html_text_, named_parts(msg),
        " ".join(str(msg.get("date") or "").split()),
    )


def _containers(msg: EmailMessage) -> Iterator[EmailMessage]:
    """The multipart parts of this message, not descending into attached messages
    (message/rfc822 are child sources of their own)."""
    if msg.is_multipart() and msg.get_content_maintype() != "message":
        yield msg
        for part in msg.iter_parts():
            if part.get_content_maintype() == "multipart":
                yield from _containers(part)  # type: ignore[arg-type]


def _inline_texts(msg: EmailMessage, body: EmailMessage | None) -> list[str]:
    """The text of inline text parts the body leaves out: ``get_body`` picks one part,
    and ``iter_attachments`` skips the other body candidates of a multipart/mixed (a
    second text/plain, an HTML part beside it), whose words would otherwise be lost.
    The alternatives of the chosen body are not read again."""
    if not msg.is_multipart() or body is None:
        return []
    attached = {id(p) for p in msg.iter_attachments()}
    containers = list(_containers(msg))
    alternatives = {id(p) for p in containers if p.get_content_type() == "multipart/alternative"
                    and any(q is body for q in p.walk())}
    out: list[str] = []
    for parent in containers:
        if id(parent) in alternatives or id(parent) in attached:
            continue
        for part in parent.iter_parts():
            if part is body or id(part) in attached or part.is_multipart() or part.get_content_maintype() != "text":
                continue
            if part.is_attachment() or part.get_content_subtype() not in ("plain", "html"):
                continue
            try:
                content = part.get_content()
            except (LookupError, ValueError):
                continue
            if part.get_content_subtype() == "html":
                content = html_text(content)
            if content.strip():
                out.append(content.strip())
    return out


def message_elements(
    mail: Mail, path: Path, source: str, prefix: tuple[str, ...], loaders: list[Loader] | None, *, chain: str = "",
) -> list[Element]:
    """The message's header line, its body and its attachments (each read by its
    own loader); the subject heads the title path. A list, not a generator: the
    attachments are read while the message is marked as being read (loop guard)."""
    meta: dict[str, Any] = {"document_title": path.name, **mail.meta}
    if mail.parts:
        meta["attachments"] = [name for name, _ in mail.parts]
    title = (*prefix, meta.get("subject") or "(no subject)")
    notes: list[str] = []
    with inside(mail.identity, path) as depth:
        inherited = {k: v for k, v in meta.items() if k != "attachments"}
        children = attachment_elements(mail.parts, path, source, title, inherited, loaders, depth, notes, chain=chain)
    if notes:
        meta["load_note"] = "; ".join(notes)
    own = list(_own_elements(mail, source, title, meta))
    if not own and notes:  # a mail that is only its attachments still reports what went wrong with them
        own = [Element(source=source, modality=Modality.TEXT, text=title[-1], title_path=title, metadata=meta)]
    return own + children


def _own_elements(mail: Mail, source: str, title: tuple[str, ...], meta: dict[str, Any]) -> Iterator[Element]:
    shown = {**meta, "date": mail.raw_date or meta.get("date")}
    head = "\n".join(f"{k.capitalize()}: {shown[k]}" for k in ("subject", "from", "to", "date") if shown.get(k))
    if head:
        yield Element(source=source, modality=Modality.TEXT, text=head, title_path=title, metadata=meta)
    if mail.html:
        root = parse_html(mail.html.encode("utf-8"), "utf-8")
        yield from (
            Element(source=e.source, modality=Modality.TEXT, text=e.text, title_path=title, metadata=meta)
            for e in html_elements(root, source, resolve=lambda src: None)
            if e.modality is Modality.TEXT
        )
    elif mail.text.strip():
        yield Element(source=source, modality=Modality.TEXT, text=mail.text.strip(), title_path=title, metadata=meta)


def _parse(data: bytes, path: Path) -> EmailMessage:
    msg = BytesParser(policy=policy.default).parsebytes(data)
    if not msg.keys():
        raise LoaderError(path, "not a mail message: no headers")
    if msg.defects and not msg.get("from") and not msg.get("subject"):
        raise LoaderError(path, f"not a mail message: {type(msg.defects[0]).__name__}")
    return msg  # type: ignore[return-value]


class EmlLoader(TextFormatLoader):
    """One mail message (.eml) as one unit under its subject.

    Example::

        elements = list(EmlLoader().load(Path("offer.eml"), "offer.eml"))
    """

    name = "eml"
    extensions = frozenset({".eml"})

    def __init__(self, attachment_loaders: list[Loader] | None = None) -> None:
        self.attachment_loaders = attachment_loaders  # None: the default loaders

    def load(self, path: Path, source: str) -> Iterator[Element]:
        data = read_bounded(
            path, MAX_MAIL_BYTES, lambda size: f"mail of {size} bytes is over the {MAX_MAIL_BYTES} read (mmrag.loaders.mail.MAX_MAIL_BYTES)"
        )
        yield from message_elements(mail_of(_parse(data, path), path, data), path, source, (), self.attachment_loaders)


class MboxLoader(TextFormatLoader):
    """A mailbox (.mbox): each message is its own unit, under ``message N``."""

    name = "mbox"
    extensions = frozenset({".mbox"})

    def __init__(self, attachment_loaders: list[Loader] | None = None) -> None:
        self.attachment_loaders = attachment_loaders  # None: the default loaders

    def load(self, path: Path, source: str) -> Iterator[Element]:
        with path.open("rb") as fh:
            first = fh.read(5)
        if first != b"From ":
            raise LoaderError(path, "not an mbox file: it does not start with a 'From ' line")
        box = mailbox.mbox(path, factory=lambda fh: BytesParser(policy=policy.default).parse(fh), create=False)
        try:
            for number, msg in enumerate(box, start=1):
                yield from message_elements(
                    mail_of(msg, path), path, source, (f"message {number}",), self.attachment_loaders,
                    chain=f"{MESSAGE_PART}{number}",
                )
        finally:
            box.close()
