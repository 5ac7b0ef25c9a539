"""Outlook messages (.msg, an OLE2 compound file) with extract-msg: the same
unit as an .eml (subject, from, to and date as metadata, the richer of the plain
and HTML bodies as text), and the attachments as child sources, an attached Outlook
message included (``mail.msg#forwarded.msg#report.pdf``).

extract-msg is GPL-3.0 licensed, so it is an optional extra (``mmrag[msg]``).
An S/MIME-encrypted message is an ``EncryptedFileError``: its body and
attachments can only be read with the recipient's key.
"""

from __future__ import annotations

import hashlib
import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mmrag.errors import CorruptFileError, EncryptedFileError, LoaderError, MissingDependencyError
from mmrag.loaders.attachments import OLE_MAGIC, unique_names
from mmrag.loaders.base import Loader
from mmrag.loaders.decoding import read_bounded
from mmrag.loaders.mail import MAX_MAIL_BYTES, Mail, choose_body, message_elements
from mmrag.types import Element

HAS_EXTRACT_MSG = importlib.util.find_spec("extract_msg") is not None  # imported when a .msg is read


def _open(source: Path | bytes, path: Path) -> Any:
    if not HAS_EXTRACT_MSG:
        raise MissingDependencyError("extract-msg", "msg", "Reading Outlook .msg files")
    import extract_msg

    src = source if isinstance(source, bytes) else str(source)
    try:
        probe = extract_msg.MSGFile(src, delayAttachments=True)  # the class first: an encrypted body must not be parsed
        try:
            kind = str(probe.classType or "").lower()
        finally:
            probe.close()
        if kind.endswith(".smime"):  # "IPM.Note.SMIME"; a signed one is "IPM.Note.SMIME.MultipartSigned"
            raise EncryptedFileError(path, "an encrypted (S/MIME) Outlook message: only its recipient's key can read it")
        msg = extract_msg.openMsg(src, strict=True)
    except LoaderError:
        raise
    except Exception as exc:  # extract-msg and olefile raise many types for a damaged file
        raise CorruptFileError(path, f"not a readable Outlook message: {type(exc).__name__}: {exc}") from exc
    if not hasattr(msg, "attachments") or not hasattr(msg, "subject"):
        msg.close()
        raise LoaderError(path, f"an Outlook item of class {kind or '(none)'} is not a message")
    return msg


def _parts(msg: Any) -> list[tuple[str, bytes]]:
    """Attachments as (unique name, bytes); an attached Outlook message as its own .msg bytes."""
    items: list[tuple[str | None, str, bytes]] = []
    for att in msg.attachments:
        data = att.data
        if data is None:
            continue
        if hasattr(data, "exportBytes"):  # an embedded message: written out as a .msg of its own
            name = att.longFilename or att.shortFilename or (getattr(data, "subject", None) or "")
            name = f"{name}.msg" if name and not name.lower().endswith(".msg") else name
            items.append((name or None, "application/vnd.ms-outlook", data.exportBytes()))
        elif isinstance(data, bytes):
            items.append((att.longFilename or att.shortFilename, str(att.mimetype or "application/octet-stream"), data))
    names = unique_names([n for n, _, _ in items], [t for _, t, _ in items])
    return [(name, data) for name, (_, _, data) in zip(names, items)]


def msg_parts_of_bytes(data: bytes) -> list[tuple[str, bytes]]:
    """The named attachments of a .msg given as bytes (``materialize`` walks them)."""
    msg = _open(data, Path("<attachment>"))
    try:
        return _parts(msg)
    finally:
        msg.close()


def _mail(msg: Any, data: bytes) -> Mail:
    meta: dict[str, Any] = {}
    for key, value in (("subject", msg.subject), ("from", msg.sender), ("to", msg.to)):
        if value:
            meta[key] = " ".join(str(value).split())
    if msg.date is not None:
        meta["date"] = msg.date.isoformat()
    identity = " ".join(str(msg.messageId or "").split())
    if not identity:
        identity = "sha256:" + hashlib.sha256(data).hexdigest()
    text, html = choose_body(msg.body or "", msg.htmlBody.decode("utf-8", "replace") if msg.htmlBody else "")
    return Mail(meta, identity, text, html, _parts(msg))


class MsgLoader(Loader):
    """One Outlook message (.msg) as one unit under its subject, its attachments
    as child sources.

    Example::

        elements = list(MsgLoader().load(Path("offer.msg"), "offer.msg"))
    """

    name = "msg"
    extensions = frozenset({".msg"})

    def __init__(self, attachment_loaders: list[Loader] | None = None) -> None:
        self.attachment_loaders = attachment_loaders  # None: the default loaders

    def sniff(self, head: bytes, path: Path) -> bool:
        # By extension and content: .doc/.xls and encrypted Office files are OLE2 too.
        return path.suffix.lower() in self.extensions and head.startswith(OLE_MAGIC)

    def load(self, path: Path, source: str) -> Iterator[Element]:
        data = read_bounded(
            path, MAX_MAIL_BYTES, lambda size: f"message of {size} bytes is over the {MAX_MAIL_BYTES} read (mmrag.loaders.mail.MAX_MAIL_BYTES)"
        )
        msg = _open(data, path)
        try:
            mail = _mail(msg, data)
        except LoaderError:
            raise
        except Exception as exc:
            raise CorruptFileError(path, f"damaged Outlook message: {type(exc).__name__}: {exc}") from exc
        finally:
            msg.close()
        yield from message_elements(mail, path, source, (), self.attachment_loaders)
