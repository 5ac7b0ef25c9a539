"""Library exceptions read as sentences naming the file: each family is
triggered by a real bad file, written by the library that would read it."""

from __future__ import annotations

import struct
import zipfile
import zlib
from pathlib import Path

import pytest

import mmrag
from mmrag.ingest import Status
from mmrag.loaders.failures import explain, kind_of
from tests.hostile_files import (
    write_deck_missing_part,
    write_deep_docx,
    write_long_contents_pdf,
    write_png_text_bomb,
)
from tests.loaders.office_files import write_docx
from tests.mixed_files import write_deck


def raised(call) -> BaseException:
    with pytest.raises(Exception) as info:
        call()
    return info.value


@pytest.fixture
def bad_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    write_deck_missing_part(write_deck(tmp_path), folder / "deck.pptx")
    write_deep_docx(write_docx(tmp_path / "plain.docx"), folder / "deep.docx")
    (folder / "deep.json").write_text('{"segments": ' + "[" * 100_000 + "]" * 100_000 + "}")
    (folder / "huge_number.json").write_text('{"segments": [{"start": ' + "9" * 400 + ', "end": 1, "text": "hi"}]}')
    write_png_text_bomb(folder / "chunk.png")
    (folder / "good.txt").write_text("Glaciers carve valleys over thousands of years.")
    (folder / "other.md").write_text("# Tides\n\nThe moon pulls the oceans into tides.")
    return folder


def test_each_library_failure_is_a_sentence_naming_the_file(bad_folder, milvus_uri, text_embedder) -> None:
    report = mmrag.Index(milvus_uri, embedder=text_embedder).ingest([bad_folder])
    reason = {Path(f.path).name: f.reason for f in report.files if f.status is Status.FAILED}
    assert reason["deck.pptx"] == "the deck is missing part rId7: the file is damaged (detail: no relationship with key 'rId7')"
    assert "its XML is nested too deeply to parse safely (over 256 levels)" in reason["deep.docx"]
    assert reason["deep.json"].startswith("nested too deeply to be a transcript (detail: maximum recursion depth exceeded")
    assert reason["huge_number.json"] == "the transcript holds a number too large to use: it is damaged (detail: int too large to convert to float)"
    assert reason["chunk.png"].startswith("the picture's embedded text (a compressed PNG text chunk) inflates past Pillow's safety limit")
    assert "MAX_TEXT_CHUNK" in reason["chunk.png"]  # the library's words kept as the detail
    assert not any("Error:" in r for r in reason.values())  # no class names
    assert {Path(f.path).name for f in report.files if f.status is Status.INGESTED} == {"good.txt", "other.md"}
    lines = report.lines()
    for name in reason:
        assert sum(line.startswith(f"failed: {bad_folder / name}: ") for line in lines) == 1


def test_pypdf_limit_reached_says_the_limit(tmp_path: Path) -> None:
    from pypdf import PdfReader

    pdf = write_long_contents_pdf(tmp_path / "parts.pdf")
    exc = raised(lambda: PdfReader(pdf).pages[0].get_contents())
    assert type(exc).__name__ == "LimitReachedError"
    assert explain(exc, kind_of(pdf)) == (
        "the PDF's content stream is too large to parse safely (limit 10,000 elements) "
        "(detail: Array-based stream has 20000 > 10000 elements.)"
    )


def test_zip_and_image_families(tmp_path: Path) -> None:
    from PIL import Image

    deck = write_deck(tmp_path)
    cut = tmp_path / "cut.pptx"
    cut.write_bytes(deck.read_bytes()[:2000])
    assert explain(raised(lambda: zipfile.ZipFile(cut)), "deck").startswith(
        "the deck is not a readable zip archive: it is damaged or truncated (detail: File is not a zip file)"
    )
    # a real PNG whose header is changed to claim 20,000 x 20,000 pixels: Pillow refuses it as a bomb on open
    bomb = tmp_path / "bomb.png"
    Image.new("RGB", (8, 8)).save(bomb)
    data = bytearray(bomb.read_bytes())
    data[16:24] = struct.pack(">II", 20_000, 20_000)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    bomb.write_bytes(bytes(data))
    assert explain(raised(lambda: Image.open(bomb)), "picture").startswith(
        "the picture is too large to decode safely (a possible decompression bomb) (detail: Image size (400000000 pixels)"
    )
    assert explain(raised(lambda: Image.open(cut)), "picture").startswith("the picture is in a format Pillow cannot read, or damaged")
    with zipfile.ZipFile(deck) as zf:
        assert explain(raised(lambda: zf.read("ppt/missing.xml")), "deck").startswith(
            "the deck is missing its part 'ppt/missing.xml': the file is damaged or truncated"
        )


def test_an_unknown_family_keeps_its_class_name() -> None:
    class OddLibraryError(Exception):
        pass

    assert explain(OddLibraryError("frobnication failed")) == "OddLibraryError: frobnication failed"
    assert explain(ValueError("some other value problem")) == "ValueError: some other value problem"
    assert kind_of("a/b.PPTX") == "deck" and kind_of("notes.weird") == "file"
    bad_name = raised(lambda: "caf\udce9.txt".encode("utf-8"))  # a non-UTF-8 name as Python sees it
    assert explain(bad_name).startswith("its name or text is not valid UTF-8: rename the file")


def _library_error(module: str, name: str, base: type[BaseException] = Exception) -> type[BaseException]:
    """An exception class that looks, by name and module, like a library's own."""
    return type(name, (base,), {"__module__": module})


@pytest.mark.parametrize(
    ("exc", "kind", "sentence"),
    [
        (_library_error("pypdf.errors", "LimitReachedError")("Detected cyclic reference"), "PDF",
         "the PDF's structure loops back on itself (a cycle): the file is damaged"),
        (_library_error("pypdf.errors", "LimitReachedError")(""), "PDF",
         "the PDF goes past a safety limit of its parser: the file is damaged or built to exhaust memory"),
        (_library_error("lxml.etree", "XMLSyntaxError")("xmlSAX2Characters: HUGE input lookup"), "document",
         "its XML holds a part too large to parse safely: the document is damaged or hostile"),
        (_library_error("lxml.etree", "XMLSyntaxError")("Opening and ending tag mismatch"), "document",
         "its XML is not well-formed: the document is damaged"),
        (KeyError("There is no item named '007.xml' in the archive"), "deck",
         "the deck is missing its part '007.xml': the file is damaged or truncated"),  # a name of digits stays as written
        (KeyError("rels/{x}"), "deck", "the deck refers to something it does not hold (rels/{x}): the file is damaged"),
        (UnicodeDecodeError("utf-16", b"\x00", 0, 1, "truncated data"), "transcript",
         "its text is not valid utf-16: the transcript is damaged or mislabelled"),
    ],
)
def test_each_rule_says_its_sentence_with_what_the_message_holds(exc: BaseException, kind: str, sentence: str) -> None:
    said = explain(exc, kind)
    message = exc.args[0] if isinstance(exc, KeyError) else str(exc)
    assert said == (f"{sentence} (detail: {message})" if message else sentence)
