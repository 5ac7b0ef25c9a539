"""Mail attachments as child sources: each attachment is read by the loader its
content calls for, under the source ``mail.eml#report.pdf``.

A child is stored under its parent's ``doc_id`` (the file on disk), so writing,
re-ingesting or deleting the parent writes, replaces or deletes its children in
the same all-or-nothing step: no orphan and no duplicate can outlive a change.
Each child element carries ``parent_source`` (the message it hangs from) and
``attachment`` (the chain of names under the file, ``fwd.eml#report.pdf``),
and sits in the title path under the message's subject and its own name, so
its chunks never merge with the mail's body or a sibling's.

Attachments nest (a forwarded message/rfc822 holds its own) to ``MAX_DEPTH``
levels; deeper ones are named in a note. A message that holds itself (a Message-ID
repeated down the chain) is a ``MailLoopError``. An attachment that cannot be
read is a note on the mail's report line; the mail is still read.

An image reference inside an attachment names the child source; ``materialize``
takes the attachment out again (into a temporary folder) so the picture can be
re-opened later, like any file.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import replace
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mmrag.errors import LoaderError, MailLoopError

if TYPE_CHECKING:
    from mmrag.loaders.base import Loader
    from mmrag.types import Element

MAX_DEPTH = 3  # a mail holds a forwarded mail that holds one more; deeper ones are named, not read
MAX_ATTACHMENTS = 100  # per message; the rest are named in a note
MAX_ATTACHMENT_BYTES = 64 * 1024 * 1024
MESSAGE_PART = "message-"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an Outlook .msg is an OLE2 compound file  # the chain part naming the n-th message of an mbox

# Identities (Message-ID, or the message's digest) of the messages being read, outermost first.
_ancestors: ContextVar[tuple[str, ...]] = ContextVar("mmrag_mail_ancestors", default=())


def message_identity(msg: EmailMessage, data: bytes | None = None) -> str:
    """The Message-ID when there is one (a forwarded copy keeps it), else the bytes' digest."""
    mid = " ".join(str(msg.get("message-id") or "").split())
    if mid:
        return mid
    return "sha256:" + hashlib.sha256(data if data is not None else msg.as_bytes()).hexdigest()


def _safe(name: str) -> str:
    """A file name usable as one chain part: no folders, no '#', no control characters."""
    name = re.sub(r"[\x00-\x1f#/\\]", "_", name).strip(" .")
    return name[:120] or "attachment"


def unique_names(raw: list[str | None], types: list[str]) -> list[str]:
    """One chain part per attachment: its file name made safe, a name from its type
    when it has none (``attachment-3.pdf``), and `` (2)`` on a repeated name."""
    out: list[str] = []
    taken: set[str] = set()
    for i, (given, ctype) in enumerate(zip(raw, types), start=1):
        name = given
        if not name:
            mime = ctype == "message/rfc822" or ctype.startswith("multipart/")  # a digest reads as a mail of its own
            ext = ".eml" if mime else mimetypes.guess_extension(ctype) or ""
            name = f"attachment-{i}{ext}"
        name = _safe(name)
        stem, dot, ext = name.rpartition(".") if "." in name else (name, "", "")
        n = 2
        while name in taken:
            name = f"{stem} ({n}){dot}{ext}"
            n += 1
        taken.add(name)
        out.append(name)
    return out


def named_parts(msg: EmailMessage) -> list[tuple[str, bytes]]:
    """The attachments of ``msg`` with the unique name each child source gets;
    the same message always gives the same names (ingest and ``materialize`` agree)."""
    parts: list[EmailMessage] = list(msg.iter_attachments())  # type: ignore[arg-type]
    names = unique_names([p.get_filename() for p in parts], [p.get_content_type() for p in parts])
    return [(name, part_bytes(part)) for name, part in zip(names, parts)]


def part_bytes(part: EmailMessage) -> bytes:
    """An attachment's decoded bytes (a message/rfc822 part as the message it holds)."""
    if part.get_content_type() == "message/rfc822":
        inner = part.get_payload()
        inner = inner[0] if isinstance(inner, list) and inner else inner
        return inner.as_bytes() if hasattr(inner, "as_bytes") else b""
    if part.is_multipart():  # a multipart/digest (or any other) attached: a MIME message of its own
        return part.as_bytes()
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


@contextmanager
def inside(identity: str, path: Path) -> Iterator[int]:
    """Mark a message as being read (yields its depth, 0 for the file itself);
    ``MailLoopError`` when it is already one of its own ancestors."""
    chain = _ancestors.get()
    if identity in chain:
        raise MailLoopError(path, f"mail loop: an attachment is message {identity}, which already contains it")
    token = _ancestors.set((*chain, identity))
    try:
        yield len(chain)
    finally:
        _ancestors.reset(token)


def attachment_elements(
    parts: list[tuple[str, bytes]], path: Path, source: str, title: tuple[str, ...], inherited: dict[str, Any],
    loaders: Sequence[Loader] | None, depth: int, notes: list[str], *, chain: str = "",
) -> list[Element]:
    """Every attachment (``named_parts``) read by its own loader as the child source
    ``source#name`` (``source#chain#name`` for a message of a mailbox, ``chain``
    being ``message-N``); problems become ``notes`` (a mail loop raises)."""
    if not parts:
        return []
    if depth >= MAX_DEPTH:
        notes.append(f"attachments nested deeper than {MAX_DEPTH} levels not read: {', '.join(n for n, _ in parts)}")
        return []
    if len(parts) > MAX_ATTACHMENTS:
        notes.append(f"{len(parts) - MAX_ATTACHMENTS} attachment(s) over the {MAX_ATTACHMENTS} read per message not read")
        parts = parts[:MAX_ATTACHMENTS]
    out: list[Element] = []
    seen: dict[bytes, str] = {}
    with tempfile.TemporaryDirectory(prefix="mmrag-attachment-") as tmp:
        for name, data in parts:
            if not data:
                notes.append(f"attachment {name!r} is empty")
                continue
            if len(data) > MAX_ATTACHMENT_BYTES:
                notes.append(f"attachment {name!r} not read: {len(data)} bytes, over {MAX_ATTACHMENT_BYTES}")
                continue
            digest = hashlib.sha256(data).digest()
            if digest in seen:  # the same file attached twice: once is enough (and keeps chunk ids unique)
                notes.append(f"attachment {name!r} is the same file as {seen[digest]!r}; read once")
                continue
            seen[digest] = name
            file = Path(tmp) / name
            file.write_bytes(data)
            try:
                children = _load_child(file, f"{source}#{chain + '#' if chain else ''}{name}", loaders)
            except MailLoopError as exc:
                raise MailLoopError(path, exc.problem) from None
            except LoaderError as exc:
                notes.append(f"attachment {name!r} not read: {exc.problem}")
                continue
            except Exception as exc:  # a library's own error about one attachment must not lose the mail
                notes.append(f"attachment {name!r} not read: {type(exc).__name__}: {exc}")
                continue
            label = f"{chain}#{name}" if chain else name
            out.extend(_as_child(e, label, source, title, inherited) for e in children)
    return out


def _load_child(file: Path, child_source: str, loaders: Sequence[Loader] | None) -> list[Element]:
    from mmrag.loaders import find_loader

    loader, _ = find_loader(file, list(loaders) if loaders is not None else None)
    return list(loader.load(file, child_source))


def _as_child(e: Element, label: str, source: str, title: tuple[str, ...], inherited: dict[str, Any]) -> Element:
    """A child's element under its parent: the parent's headers (its own win), its
    place in the title path, and the links back to the parent. ``label`` is the
    chain under ``source`` (``report.pdf``, ``message-2#report.pdf``)."""
    meta = {**inherited, **e.metadata}
    child_source = f"{source}#{label}"
    name = label.rsplit("#", 1)[-1]
    inner = e.metadata.get("attachment") if e.source.startswith(child_source + "#") else None
    meta["attachment"] = f"{label}#{inner}" if inner else label
    meta["parent_source"] = str(e.metadata.get("parent_source")) if inner else source
    meta["document_title"] = inherited.get("document_title") or Path(source).name
    if e.metadata.get("load_note") and not inner:
        meta["load_note"] = f"attachment {name!r}: {e.metadata['load_note']}"
    return replace(e, title_path=(*title, name, *e.title_path), metadata=meta)


def split_source(source: str) -> tuple[Path, list[str]] | None:
    """``mail.eml#fwd.eml#report.pdf`` -> (the file on disk, the chain of parts), or
    None when no prefix of ``source`` up to a '#' is a file."""
    cut = source.find("#")
    while cut != -1:
        head = Path(source[:cut])
        if head.is_file():
            return head, source[cut + 1:].split("#")
        cut = source.find("#", cut + 1)
    return None


@contextmanager
def materialize(source: str) -> Iterator[Path | None]:
    """The attachment a child source names, written to a temporary file for the
    block (None when ``source`` names no attachment of a file on disk)."""
    found = split_source(source)
    if found is None:
        yield None
        return
    file, chain = found
    data = file.read_bytes()
    for i, part_name in enumerate(chain):
        if i == 0 and part_name.startswith(MESSAGE_PART) and part_name[len(MESSAGE_PART):].isdigit():
            data = _mbox_message(file, int(part_name[len(MESSAGE_PART):]))
            continue
        match = [d for n, d in _parts_of(data) if n == part_name]
        if not match:
            raise LoaderError(source, f"the mail has no attachment {part_name!r} any more (re-ingest it)")
        data = match[0]
    with tempfile.TemporaryDirectory(prefix="mmrag-attachment-") as tmp:
        out = Path(tmp) / chain[-1]
        out.write_bytes(data)
        yield out


def _parts_of(data: bytes) -> list[tuple[str, bytes]]:
    """The named attachments of a mail given as bytes: an Outlook .msg (OLE2) or a MIME message."""
    if data.startswith(OLE_MAGIC):
        from mmrag.loaders.msg import msg_parts_of_bytes

        return msg_parts_of_bytes(data)
    return named_parts(BytesParser(policy=policy.default).parsebytes(data))  # type: ignore[arg-type]


def _mbox_message(file: Path, number: int) -> bytes:
    import mailbox

    box = mailbox.mbox(file, create=False)
    try:
        for n, key in enumerate(box.iterkeys(), start=1):
            if n == number:
                return box.get_bytes(key)
    finally:
        box.close()
    raise LoaderError(file, f"the mailbox has no message {number} any more (re-ingest it)")
