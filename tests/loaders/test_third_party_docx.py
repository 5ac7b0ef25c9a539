"""Word-saved documents from python-docx's own test data (MIT, see the README beside
them): every word LlamaIndex's default .docx reader (docx2txt) extracts, mmrag extracts
too, and pages come only from where Word stored them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mmrag.loaders import DocxLoader

FILES = sorted((Path(__file__).resolve().parents[1] / "data" / "third_party" / "python-docx").glob("*.docx"))


def words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_mmrag_reads_every_word_the_anchor_reads(path: Path) -> None:
    docx2txt = pytest.importorskip("docx2txt", reason="docx2txt (LlamaIndex's .docx reader) is in the bench extra")
    ours = words(" ".join(e.text for e in DocxLoader().load(path, path.name)))
    assert words(docx2txt.process(str(path))) <= ours


def test_pages_from_words_rendered_page_breaks() -> None:
    path = next(p for p in FILES if p.name == "par-rendered-page-breaks.docx")
    pages = {e.page for e in DocxLoader().load(path, path.name)}
    assert None not in pages and max(pages) > 1  # Word laid it out: every element has the page it starts on
