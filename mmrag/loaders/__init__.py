"""Loader registry: picks a loader by the file's content, then its extension."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from mmrag.errors import LoaderError, UnsupportedFileError
from mmrag.loaders.base import SNIFF_BYTES, Loader
from mmrag.loaders.delimited import CsvLoader
from mmrag.loaders.docx import DocxLoader
from mmrag.loaders.epub import EpubLoader
from mmrag.loaders.html import HtmlLoader
from mmrag.loaders.image import ImageLoader
from mmrag.loaders.mail import EmlLoader, MboxLoader
from mmrag.loaders.msg import MsgLoader
from mmrag.loaders.odf import OdfLoader
from mmrag.loaders.image_refs import open_image
from mmrag.loaders.media import MediaLoader
from mmrag.loaders.pdf import OCR_RENDER_SCALE, PdfLoader
from mmrag.loaders.pptx import PptxLoader
from mmrag.loaders.sidecars import sidecar_subtitles, video_of
from mmrag.loaders.spreadsheet import XlsxLoader
from mmrag.loaders.text import MarkdownLoader, TextLoader
from mmrag.loaders.transcript import SrtLoader, VttLoader, WhisperJsonLoader
from mmrag.types import Element

if TYPE_CHECKING:
    from mmrag.asr import Transcriber

__all__ = [
    "EmlLoader",
    "MboxLoader",
    "CsvLoader",
    "DocxLoader",
    "EpubLoader",
    "HtmlLoader",
    "ImageLoader",
    "Loader",
    "LOADERS",
    "MediaLoader",
    "MsgLoader",
    "OdfLoader",
    "PdfLoader",
    "PptxLoader",
    "SrtLoader",
    "VttLoader",
    "WhisperJsonLoader",
    "XlsxLoader",
    "default_loaders",
    "find_loader",
    "load",
    "open_image",
    "sidecar_subtitles",
    "video_of",
]


def default_loaders(
    *, ocr: bool = True, render_pages: bool = True, render_scale: float = OCR_RENDER_SCALE, asr: Transcriber | None = None
) -> list[Loader]:
    """A fresh list of every loader (signature loaders first), with the options a
    user most often changes applied to each loader they concern.

    Example::

        index = mmrag.Index("mmrag.db", loaders=default_loaders(ocr=False, render_pages=False))
    """
    mail: list[EmlLoader | MboxLoader | MsgLoader] = [EmlLoader(), MboxLoader(), MsgLoader()]
    loaders = [
        PdfLoader(render_pages=render_pages, ocr=ocr, render_scale=render_scale),
        PptxLoader(ocr=ocr),
        DocxLoader(ocr=ocr),
        XlsxLoader(),
        EpubLoader(ocr=ocr),
        OdfLoader(ocr=ocr),
        ImageLoader(ocr=ocr),
        MediaLoader(asr=asr, ocr=ocr),
        VttLoader(),
        SrtLoader(),
        WhisperJsonLoader(),
        CsvLoader(),
        HtmlLoader(ocr=ocr),
        *mail,
        MarkdownLoader(),
        TextLoader(),
    ]
    for loader in mail:  # a mail's attachments are read with the same options as the files beside it
        loader.attachment_loaders = loaders
    return loaders


LOADERS: list[Loader] = default_loaders()

def find_loader(path: Path, loaders: list[Loader] | None = None) -> tuple[Loader, str | None]:
    """The loader for ``path`` and, when the extension disagrees with the content,
    a note saying so. Raises ``LoaderError`` for empty, unreadable or unknown files."""
    loaders = LOADERS if loaders is None else loaders
    try:
        with path.open("rb") as fh:
            head = fh.read(SNIFF_BYTES)
    except OSError as exc:
        raise LoaderError(path, f"cannot open: {exc.strerror or exc}") from exc
    if not head:
        raise LoaderError(path, "empty file (0 bytes)")
    suffix = path.suffix.lower()
    by_signature = [ld for ld in loaders if ld.signatures and ld.sniff(head, path)]
    if by_signature:
        loader = by_signature[0]
        note = None
        if suffix not in loader.extensions:
            note = f"extension '{suffix or '(none)'}' does not match its content; read as {loader.name}"
        return loader, note
    claimed = [ld for ld in loaders if suffix in ld.extensions]
    for loader in claimed:
        if loader.signatures:
            raise LoaderError(path, f"not a valid {loader.name} file: its content does not start like one")
        if loader.sniff(head, path):
            return loader, None
    if claimed:
        raise LoaderError(path, f"not a {claimed[0].name} file: binary content")
    known = ", ".join(sorted({e for ld in loaders for e in ld.extensions}))
    raise UnsupportedFileError(path, f"unsupported file type '{suffix or '(none)'}' (supported: {known})")


def load(path: str | Path, loaders: list[Loader] | None = None) -> Iterator[Element]:
    """Elements of one file, with the loader chosen by ``find_loader``."""
    p = Path(path)
    loader, _ = find_loader(p, loaders)
    return loader.load(p, str(path))
