"""HTML and EPUB loaders on real files (a hand-written page with a Pillow picture;
a book written by ebooklib)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from mmrag.errors import UnknownEncodingError, UnsafeFileError
from mmrag.loaders import EpubLoader, HtmlLoader, find_loader, open_image
from mmrag.types import Modality
from tests.loaders.office_files import write_epub, write_html
from tests.loaders.test_office_bad_input import BILLION_LAUGHS, rewrite_member


def test_html_main_content_headings_tables_and_local_pictures(tmp_path: Path) -> None:
    path = write_html(tmp_path / "site")
    elements = list(HtmlLoader().load(path, str(path)))
    text = "\n".join(e.text for e in elements)
    for dropped in ("do not index me", "color: red", "Timetables", "cookies", "Copyright"):
        assert dropped not in text
    by_text = {e.text: e for e in elements}
    assert by_text["Ferries leave every hour from pier 3."].title_path == ("Ferry guide",)
    assert by_text["• Dogs pay 10 euros."].title_path == ("Ferry guide", "Prices")
    rows = [(e.row_start, e.text) for e in elements if e.row_start]
    assert rows == [(2, "Route: Oslo to Kiel; Price: 120"), (3, "Route: Bergen to Hirtshals; Price: 95")]
    [picture] = [e for e in elements if e.modality is Modality.IMAGE]
    assert picture.text == "Chart of ferry prices by season" and open_image(picture.image).size == (40, 30)
    assert "Image: Remote harbour map" in by_text and "Image: Escaping picture" in by_text  # alt kept, nothing fetched
    assert elements[0].metadata["document_title"] == "Ferry guide"


def test_html_encodings_declared_detected_and_unknown(tmp_path: Path) -> None:
    page = tmp_path / "latin.htm"
    body = "".join(f"<p>Le café numéro {i} est très apprécié à Besançon, déjà reçu.</p>" for i in range(20))
    page.write_bytes(f'<html><head><meta charset="windows-1252"></head><body>{body}</body></html>'.encode("cp1252"))
    assert next(HtmlLoader().load(page, "latin.htm")).text == "Le café numéro 0 est très apprécié à Besançon, déjà reçu."
    noise = tmp_path / "noise.html"
    noise.write_bytes(b"<html><body><p>" + bytes(range(128, 256)) * 40 + b"</p></body></html>")
    with pytest.raises(UnknownEncodingError, match="unknown text encoding"):
        list(HtmlLoader().load(noise, "noise.html"))


def test_html_is_picked_by_content(tmp_path: Path) -> None:
    path = write_html(tmp_path / "site")
    renamed = path.with_suffix(".txt")
    renamed.write_bytes(path.read_bytes())
    loader, note = find_loader(renamed)
    assert loader.name == "html" and "does not match" in (note or "")


def test_epub_chapters_in_spine_order_with_their_pictures(tmp_path: Path) -> None:
    path = write_epub(tmp_path / "tales.bin")  # no extension: found by its mimetype member
    loader, _ = find_loader(path)
    assert loader.name == "epub"
    elements = list(loader.load(path, str(path)))
    texts = [e.text for e in elements]
    assert texts.index("The wind rose at midnight and the lighthouse keeper climbed the stairs.") < texts.index(
        "Morning came quietly; gulls circled the broken pier.")
    by_text = {e.text: e for e in elements}
    assert by_text["By dawn the pier was gone."].title_path == ("The Storm", "Aftermath")
    assert by_text["Morning came quietly; gulls circled the broken pier."].title_path == ("The Calm",)
    [picture] = [e for e in elements if e.modality is Modality.IMAGE]
    assert picture.text == "A huge wave over the pier" and picture.title_path == ("The Storm", "Aftermath")
    assert open_image(picture.image).size == (32, 24)


def test_epub_with_entity_declarations_is_refused(tmp_path: Path) -> None:
    src = write_epub(tmp_path / "tales.epub")
    with zipfile.ZipFile(src) as zf:
        chapter = next(n for n in zf.namelist() if n.endswith("storm.xhtml"))
    bad = rewrite_member(src, tmp_path / "bad.epub", chapter, BILLION_LAUGHS)
    with pytest.raises(UnsafeFileError, match="declares XML entities"):
        list(EpubLoader().load(bad, "bad.epub"))
