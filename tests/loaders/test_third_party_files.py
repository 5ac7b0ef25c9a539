"""Real third-party files per format (tests/data/third_party/*, each folder's README
names its package and licence): each loads with its own loader, keeps its
locations, and holds every word LlamaIndex's default reader extracts where that
reader reads the format (pandas for .xlsx/.csv, EpubReader for .epub)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mmrag.loaders import default_loaders, find_loader

DATA = Path(__file__).resolve().parents[1] / "data" / "third_party"
LOADERS = default_loaders(ocr=False, render_pages=False)


def load(path: Path):
    loader, _ = find_loader(path, LOADERS)
    return loader.name, list(loader.load(path, str(path)))


def words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.lower()))


def llamaindex_words(path: Path) -> set[str]:
    core = pytest.importorskip("llama_index.core", reason="LlamaIndex (the anchor) is in the bench extra")
    pytest.importorskip("pandas", reason="LlamaIndex's .xlsx/.csv readers need pandas")
    docs = core.SimpleDirectoryReader(input_files=[str(path)]).load_data(show_progress=False)
    return words(" ".join(d.text for d in docs)) - {"nan"}  # pandas writes NaN for an empty cell


SPREADSHEETS = sorted([*DATA.glob("tablib/*.xlsx"), *DATA.glob("xlsx2csv/*.xlsx"), *DATA.glob("xlsx2csv/*.csv")])


@pytest.mark.parametrize("path", SPREADSHEETS, ids=[p.name for p in SPREADSHEETS])
def test_spreadsheets_hold_every_word_pandas_reads(path: Path) -> None:
    name, elements = load(path)
    assert name == ("csv" if path.suffix == ".csv" else "xlsx")
    assert all(e.row_start is not None for e in elements)
    assert llamaindex_words(path) <= words(" ".join(e.text for e in elements))


def test_a_column_no_row_fills_is_still_found_by_its_header() -> None:
    _, elements = load(DATA / "tablib" / "ragged.xlsx")
    assert [e.text for e in elements] == ["a | b", "a: 1"]  # 'b' heads a column with no value
    assert (elements[0].row_start, elements[1].row_start) == (1, 2)


def test_a_macro_workbook_reads_by_content_and_keeps_its_sheets() -> None:
    name, elements = load(DATA / "xlsx2csv" / "hyperlinks.xlsm")
    assert name == "xlsx" and {e.sheet for e in elements} and "github" in " ".join(e.text for e in elements)


def test_a_debian_manual_whose_manifest_hrefs_carry_fragments_reads_in_spine_order() -> None:
    path = DATA / "live-manual" / "live-manual.en.epub"
    name, elements = load(path)
    text = " ".join(e.text for e in elements)
    assert name == "epub" and "live-build" in text and len(text) > 100_000
    chapters = [e.metadata["chapter"] for e in elements]
    assert chapters == sorted(chapters)  # spine order, each chapter once
    assert "manifest href(s) with a '#fragment' read as their file" in elements[0].metadata["load_note"]
    headed = [e.title_path for e in elements if e.title_path]
    assert any(len(t) >= 2 for t in headed)  # chapter > heading paths


@pytest.mark.parametrize("path", sorted(DATA.glob("debian-html/*/*.html")), ids=lambda p: p.name)
def test_debian_html_reads_its_main_text_under_headings(path: Path) -> None:
    name, elements = load(path)
    assert name == "html" and elements
    assert any(e.title_path for e in elements)
    text = " ".join(e.text for e in elements)
    assert not re.search(r"</?(div|span|p|a|table|td|tr|li|ul|body)\b", text) and "accesskey" not in text  # no markup


def test_libffi_basics_page_keeps_its_function_definitions() -> None:
    _, elements = load(DATA / "debian-html" / "libffi8" / "The-Basics.html")
    text = " ".join(e.text for e in elements)
    assert "ffi_prep_cif (ffi_cif *" in text and "FFI_BAD_ABI" in text


MAILS = sorted([*DATA.glob("cpython-email/*.eml"), *DATA.glob("mail-parser/*.eml")])


@pytest.mark.parametrize("path", MAILS, ids=[p.name for p in MAILS])
def test_real_mail_reads_headers_and_body(path: Path) -> None:
    name, elements = load(path)
    assert name == "eml" and elements[0].metadata.get("subject")
    assert len(" ".join(e.text for e in elements)) > 40


def test_a_gb2312_html_only_mail_is_decoded() -> None:
    _, elements = load(DATA / "mail-parser" / "mail_test_9.eml")
    assert any("\u4e00" <= ch <= "\u9fff" for e in elements for ch in e.text)  # Chinese text, not mojibake


def test_cpython_mail_with_a_gif_reads_it_as_a_child_image() -> None:
    path = DATA / "cpython-email" / "msg_07.eml"
    _, elements = load(path)
    gif = [e for e in elements if e.metadata.get("attachment") == "dingusfish.gif"]
    assert gif and gif[0].source == f"{path}#dingusfish.gif" and gif[0].image is not None


def test_every_inline_text_part_of_a_mixed_mail_is_read() -> None:
    _, elements = load(DATA / "cpython-email" / "msg_10.eml")
    text = " ".join(e.text for e in elements)
    assert "Quoted Printable encoded message" in text and "7bit encoded message" in text  # the HTML part beside the body
    assert "no Content-Transfer-Encoding" in text


def test_a_digest_reads_each_of_its_messages_as_a_child() -> None:
    path = DATA / "cpython-email" / "msg_02.eml"
    _, elements = load(path)
    subjects = {e.metadata.get("subject") for e in elements if e.metadata.get("attachment", "").startswith("attachment-2.eml#")}
    assert {"[Ppp] testing #1", "[Ppp] testing #5"} <= subjects
