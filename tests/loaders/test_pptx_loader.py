from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from mmrag.errors import LoaderError
from mmrag.loaders import PptxLoader, find_loader, open_image
from mmrag.types import ImageKind, ImageRef, Modality


def test_slides_give_title_body_in_reading_order_table_notes_and_pictures(deck_path: Path) -> None:
    elements = list(PptxLoader(ocr=False).load(deck_path, str(deck_path)))
    s1 = [e for e in elements if e.slide == 1]
    s2 = [e for e in elements if e.slide == 2]
    assert {e.slide for e in elements} == {1, 2}
    assert [e.metadata["role"] for e in s1] == ["title", "body", "body", "table", "notes"]
    assert [e.text for e in s1][:3] == [
        "Revenue by region",
        "First: total revenue rose 12 percent",  # added second, but it sits higher on the slide
        "Second: the north grew fastest",
    ]
    assert s1[3].text == "Region: North | Growth: 19%"
    assert s1[4].text == "Speaker notes: Mention that the warehouse fire delayed shipments in March."
    assert all(e.title_path == ("Revenue by region",) for e in s1)
    assert all(e.metadata["document_title"] == "Quarterly review" for e in elements)
    [picture] = [e for e in s2 if e.modality is Modality.IMAGE]
    assert picture.text == "Twelve people smiling on a lawn"
    assert picture.metadata["alt_text"] == "Twelve people smiling on a lawn"
    assert picture.image == ImageRef(str(deck_path), ImageKind.EMBEDDED, slide=2, index=0)
    img = open_image(picture.image)
    assert img.size == (120, 80) and img.convert("RGB").getpixel((5, 5)) == (30, 90, 200)


def test_deck_is_found_by_content_whatever_its_name(deck_path: Path, tmp_path: Path) -> None:
    renamed = tmp_path / "deck.bin"
    renamed.write_bytes(deck_path.read_bytes())
    loader, note = find_loader(renamed)
    assert loader.name == "pptx"
    assert note is not None and "does not match its content" in note


def test_pptx_that_is_a_zip_of_something_else_is_a_clear_error(tmp_path: Path) -> None:
    fake = tmp_path / "slides.pptx"
    with zipfile.ZipFile(fake, "w") as zf:
        zf.writestr("photos/cat.txt", "not a deck")
    loader, _ = find_loader(fake)
    with pytest.raises(LoaderError, match="not a PowerPoint deck: a zip archive without") as info:
        list(loader.load(fake, str(fake)))
    assert info.value.path == str(fake)

    word = tmp_path / "letter.pptx"
    with zipfile.ZipFile(word, "w") as zf:
        zf.writestr(
            "[Content_Types].xml",
            '<Types><Override ContentType="application/vnd.openxmlformats-officedocument.'
            'wordprocessingml.document.main+xml"/></Types>',
        )
    with pytest.raises(LoaderError, match="not a PowerPoint deck: the zip holds a Word document"):
        list(PptxLoader().load(word, str(word)))


def test_a_zip_that_is_not_called_pptx_is_not_taken_for_a_deck(tmp_path: Path) -> None:
    other = tmp_path / "archive.zip"
    with zipfile.ZipFile(other, "w") as zf:
        zf.writestr("a.txt", "hello")
    with pytest.raises(LoaderError, match="unsupported file type '.zip'"):
        find_loader(other)


def test_broken_deck_is_a_clear_error(deck_path: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.pptx"
    with zipfile.ZipFile(deck_path) as src, zipfile.ZipFile(broken, "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            dst.writestr(info, b"<p:sld" if info.filename == "ppt/slides/slide1.xml" else data)
    with pytest.raises(LoaderError, match="broken.pptx: corrupt PowerPoint deck"):
        list(PptxLoader().load(broken, str(broken)))
