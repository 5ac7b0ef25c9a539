from __future__ import annotations

from pathlib import Path

from mmrag.loaders import LOADERS, default_loaders, find_loader
from tests.mixed_files import write_scanned_pdf


def test_each_file_kind_finds_its_loader_by_content(tmp_path: Path) -> None:
    vtt = tmp_path / "call.txt"  # misnamed: its content says WebVTT
    vtt.write_text("WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nHi.\n")
    loader, note = find_loader(vtt)
    assert loader.name == "vtt" and note is not None and "read as vtt" in note
    pdf = write_scanned_pdf(tmp_path / "scan.bin", ["x"])
    assert find_loader(pdf)[0].name == "pdf"
    assert [ld.name for ld in LOADERS] == [ld.name for ld in default_loaders()]


def test_default_loaders_apply_common_options(tmp_path: Path) -> None:
    loaders = {ld.name: ld for ld in default_loaders(ocr=False, render_pages=False, render_scale=1.5)}
    assert (loaders["pdf"].ocr, loaders["pdf"].render_pages, loaders["pdf"].render_scale) == (False, False, 1.5)
    assert loaders["pptx"].ocr is False and loaders["image"].ocr is False
    pdf = write_scanned_pdf(tmp_path / "scan.pdf", ["Invoice"], ["A text page long enough to need no OCR at all."])
    elements = list(find_loader(pdf, list(loaders.values()))[0].load(pdf, str(pdf)))
    # no OCR and no page images, except the scan, which would otherwise be lost
    assert [(e.modality.value, e.page) for e in elements] == [("text", 1), ("page_image", 2)]
    assert "ocr_skipped" not in elements[1].metadata  # OCR was turned off, not missing
