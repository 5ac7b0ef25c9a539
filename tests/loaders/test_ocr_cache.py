"""OCR only where it pays: each distinct picture read once (in a run and across
runs), pictures that cannot hold text not read, pictures of the slide's own text
adding nothing; scanned pages still read."""

from __future__ import annotations

import io
import pickle
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from mmrag.loaders import PptxLoader
from mmrag.loaders import ocr as ocr_module
from mmrag.loaders.ocr import only_new_text, unreadable_reason
from mmrag.loaders.ocr_cache import OcrCache, current_cache, use_cache
from tests.mixed_files import needs_ocr, png_bytes, text_picture


def test_cache_reads_each_distinct_picture_once(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []

    def read(image: Image.Image) -> str:
        calls.append(image.size)
        return f"text of {image.size}"

    cache = OcrCache()
    logo = text_picture(["ACME"], (200, 80))
    again = Image.open(io.BytesIO(png_bytes(logo)))  # the same pixels, decoded from other bytes
    other = text_picture(["Other"], (200, 80))
    texts = [cache.text(img, read, "engine") for img in (logo, again, other, logo)]
    assert calls == [(200, 80), (200, 80)]
    assert texts[0] == texts[1] == texts[3] and cache.stats.engine_calls == 2 and cache.stats.memory_hits == 2
    cache.text(logo, read, "another engine setting")  # what decides the text is part of the key
    assert len(calls) == 3


def test_cache_file_serves_a_later_run_and_survives_pickling(tmp_path: Path) -> None:
    path = tmp_path / "ocr-cache.sqlite"
    first = OcrCache(path)
    assert first.text(text_picture(["Invoice 4471"]), lambda img: "Invoice 4471", "e") == "Invoice 4471"
    first.close()
    later = pickle.loads(pickle.dumps(OcrCache(path)))  # as a worker process gets it

    def never(image: Image.Image) -> str:
        raise AssertionError("the engine ran although the cache file held the answer")

    assert later.text(text_picture(["Invoice 4471"]), never, "e") == "Invoice 4471"
    assert later.stats.file_hits == 1 and later.stats.engine_calls == 0


def test_memory_cache_is_bounded() -> None:
    cache = OcrCache(max_entries=2)
    for n in range(5):
        cache.text(Image.new("L", (30 + n, 30)), lambda img: "", "e")
    assert len(cache._memory) == 2
    with pytest.raises(ValueError, match="max_entries"):
        OcrCache(max_entries=0)


def test_use_cache_is_scoped() -> None:
    mine = OcrCache()
    before = current_cache()
    with use_cache(mine):
        assert current_cache() is mine
    assert current_cache() is before


def _gradient(size: tuple[int, int]) -> Image.Image:
    img = Image.new("RGB", size)
    draw = ImageDraw.Draw(img)
    for x in range(size[0]):
        shade = 40 + x * 160 // size[0]
        draw.line([(x, 0), (x, size[1])], fill=(shade, shade, 220))
    return img


def test_skip_rules_tiny_flat_and_gradient_pictures() -> None:
    assert unreadable_reason(Image.new("RGB", (16, 300), "white")) == "too small"
    assert unreadable_reason(Image.new("RGB", (40, 40), "black")) == "too small"
    assert unreadable_reason(Image.new("RGB", (1920, 1080), (20, 60, 140))) == "flat"
    assert unreadable_reason(_gradient((1280, 720))) == "flat"
    assert unreadable_reason(text_picture(["Quarterly churn fell to 3.2%"])) is None
    labelled = _gradient((1920, 1080))  # a background with one small label in a corner
    ImageDraw.Draw(labelled).text((1600, 1020), "Confidential draft", fill="white", font_size=22)
    assert unreadable_reason(labelled) is None


def test_text_already_on_the_slide_is_not_added_again() -> None:
    slide = "Revenue by region\nTotal revenue rose 12 percent"
    assert only_new_text("Revenue by region", slide) == ""
    assert only_new_text("Warehouse fire in March", slide) == "Warehouse fire in March"
    assert only_new_text("", slide) == ""


def _deck(tmp_path: Path) -> Path:
    """Three slides with the same logo, a full-slide background under a title, a
    tiny icon, and a picture of the slide's own title."""
    from pptx import Presentation
    from pptx.util import Inches

    prs = Presentation()
    logo = png_bytes(text_picture(["Northwind Traders"], (420, 90)))
    background = png_bytes(text_picture(["Northwind Traders"], (1000, 750)))
    for n in range(3):
        slide = prs.slides.add_slide(prs.slide_layouts[5])
        slide.shapes.title.text = f"Quarter {n + 1} results"
        slide.shapes.add_picture(io.BytesIO(logo), Inches(7), Inches(6.5), Inches(2.5))
    first = prs.slides[0]
    first.shapes.add_picture(io.BytesIO(background), 0, 0, prs.slide_width, prs.slide_height)
    first.shapes.add_picture(io.BytesIO(png_bytes(Image.new("RGB", (12, 12), "red"))), Inches(1), Inches(1))
    title_picture = png_bytes(text_picture(["Quarter 2 results"], (500, 90)))
    prs.slides[1].shapes.add_picture(io.BytesIO(title_picture), Inches(1), Inches(3), Inches(4))
    path = tmp_path / "deck.pptx"
    prs.save(path)
    return path


@needs_ocr
@pytest.mark.slow  # real OCR: loads the ONNX models
def test_deck_reads_a_repeated_logo_once_and_skips_what_cannot_pay(tmp_path: Path, monkeypatch) -> None:
    engine_calls = []
    real_read = ocr_module._read
    monkeypatch.setattr(ocr_module, "_read", lambda img: engine_calls.append(img.size) or real_read(img))
    path = _deck(tmp_path)
    cache_file = tmp_path / "cache.sqlite"
    with use_cache(OcrCache(cache_file)) as cache:
        pictures = [e for e in PptxLoader().load(path, str(path)) if e.image is not None]
    logos = [p for p in pictures if "Northwind" in p.metadata.get("ocr_text", "")]
    assert [p.slide for p in logos] == [1, 2, 3]  # every slide's logo has its text ...
    assert engine_calls.count((420, 90)) == 1  # ... from one engine call
    skips = {p.metadata.get("ocr_skip") for p in pictures}
    assert {"background", "too small"} <= skips
    title_picture = next(p for p in pictures if p.slide == 2 and p.metadata.get("ocr_skip") is None and p not in logos)
    assert title_picture.metadata["ocr_text"] == ""  # its words are the slide's title
    assert cache.stats.engine_calls == len(engine_calls) == 2

    engine_calls.clear()  # a later run: everything comes from the cache file
    with use_cache(OcrCache(cache_file)) as later:
        again = [e for e in PptxLoader().load(path, str(path)) if e.image is not None]
    assert engine_calls == [] and later.stats.file_hits == 2
    assert [p.text for p in again] == [p.text for p in pictures]


@needs_ocr
@pytest.mark.slow  # real OCR and a Milvus Lite store
def test_a_rerun_reads_pictures_of_a_changed_deck_from_the_stores_cache(tmp_path: Path, text_embedder, monkeypatch) -> None:
    import mmrag
    from mmrag.ingest import Status

    engine_calls = []
    real_read = ocr_module._read
    monkeypatch.setattr(ocr_module, "_read", lambda img: engine_calls.append(img.size) or real_read(img))
    docs = tmp_path / "docs"
    docs.mkdir()
    deck = _deck(docs)
    index = mmrag.Index(str(tmp_path / "store.db"), embedder=text_embedder)
    assert index.ingest([docs]).count(Status.INGESTED) == 1
    assert len(engine_calls) == 2 and (tmp_path / ".store.db.ocr-cache.sqlite").exists()

    from pptx import Presentation

    prs = Presentation(str(deck))  # the deck changes: one more slide, same pictures
    prs.slides.add_slide(prs.slide_layouts[5]).shapes.title.text = "Quarter 4 results"
    prs.save(deck)
    engine_calls.clear()
    later = mmrag.Index(str(tmp_path / "store.db"), embedder=text_embedder)  # its own, empty memory cache
    report = later.ingest([docs])
    assert report.count(Status.INGESTED) == 1 and engine_calls == []  # every picture's text came from the file
