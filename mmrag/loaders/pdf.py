"""PDF text layer, page by page, with pypdf."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from mmrag.errors import LoaderError
from mmrag.loaders.base import Loader
from mmrag.types import Element, Modality


def open_pdf(path: Path):  # -> pypdf.PdfReader
    """A reader for ``path``; raises ``LoaderError`` for corrupt or locked files."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise LoaderError(path, "encrypted PDF: a password is required to read it")
        _ = len(reader.pages)
    except LoaderError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise LoaderError(path, f"corrupt PDF: {exc}") from exc
    return reader


def document_title(reader, path: Path) -> str:
    """The PDF's own title when it has one, else the file name."""
    try:
        title = (reader.metadata or {}).get("/Title")
    except Exception:  # a broken info dict must not stop the text from loading
        title = None
    return str(title).strip() if title and str(title).strip() else path.name


class PdfLoader(Loader):
    """One text element per page (1-based page numbers)."""

    name = "pdf"
    extensions = frozenset({".pdf"})
    signatures = (b"%PDF-",)

    def load(self, path: Path, source: str) -> Iterator[Element]:
        from pypdf.errors import PdfReadError

        reader = open_pdf(path)
        title = document_title(reader, path)
        for number, page in enumerate(reader.pages, start=1):
            try:
                text = page.extract_text() or ""
            except (PdfReadError, ValueError, KeyError, TypeError) as exc:
                raise LoaderError(path, f"page {number}: cannot read its text layer: {exc}") from exc
            if text.strip():
                yield Element(
                    source=source,
                    modality=Modality.TEXT,
                    text=text.strip(),
                    page=number,
                    metadata={"document_title": title},
                )
