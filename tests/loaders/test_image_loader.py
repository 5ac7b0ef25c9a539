from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from mmrag.errors import LoaderError
from mmrag.loaders import ImageLoader, find_loader, open_image
from mmrag.loaders import image as image_module
from mmrag.loaders.decoding import MAX_IMAGE_PIXELS
from mmrag.loaders.ocr import OCR_SKIPPED, ocr_image
from mmrag.types import ImageKind, ImageRef, Modality
from tests.mixed_files import needs_ocr, text_picture


@pytest.mark.parametrize(
    ("name", "fmt"),
    [("a.png", "PNG"), ("a.jpg", "JPEG"), ("a.webp", "WEBP"), ("a.gif", "GIF"), ("a.bmp", "BMP"), ("a.tiff", "TIFF")],
)
def test_each_format_is_sniffed_and_gives_one_image_element(tmp_path: Path, name: str, fmt: str) -> None:
    path = tmp_path / name
    Image.new("RGB", (40, 30), (10, 200, 10)).save(path, format=fmt)
    hidden = tmp_path / f"no_extension_{fmt}"
    hidden.write_bytes(path.read_bytes())
    assert find_loader(hidden)[0].name == "image"
    loader, note = find_loader(path)
    assert loader.name == "image" and note is None
    [element] = ImageLoader(ocr=False).load(path, str(path))
    assert element.modality is Modality.IMAGE
    assert element.image == ImageRef(str(path), ImageKind.FILE)
    assert (element.metadata["width"], element.metadata["height"]) == (40, 30)


def test_text_starting_with_bm_is_not_a_bitmap(tmp_path: Path) -> None:
    notes = tmp_path / "cars.txt"
    notes.write_text("BMW and other cars are parked outside the office every day.\n")
    assert find_loader(notes)[0].name == "text"


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    img = Image.new("RGB", (60, 20), "white")
    img.paste((255, 0, 0), (0, 0, 10, 20))  # red strip on the left edge
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    path = tmp_path / "phone.jpg"
    img.save(path, exif=exif, quality=95)
    [element] = ImageLoader(ocr=False).load(path, str(path))
    assert (element.metadata["width"], element.metadata["height"]) == (20, 60)
    shown = open_image(element.image)
    assert shown.size == (20, 60)
    r, g, b = shown.getpixel((10, 3))  # the left strip is now on top
    assert r > 200 and g < 60


def test_caption_stored_in_the_file_is_attached(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x010E] = "Sunset over the harbour"
    path = tmp_path / "photo.jpg"
    Image.new("RGB", (32, 32), (250, 120, 40)).save(path, exif=exif)
    [element] = ImageLoader(ocr=False).load(path, str(path))
    assert element.text == "Sunset over the harbour"
    assert element.metadata["caption"] == "Sunset over the harbour"


@needs_ocr
@pytest.mark.slow  # the first OCR call loads the ONNX models
def test_ocr_reads_a_rendered_text_image(tmp_path: Path) -> None:
    path = tmp_path / "figure.png"
    text_picture(["Quarterly churn fell to 3.2%", "Support tickets halved"]).save(path)
    [element] = ImageLoader().load(path, str(path))
    assert element.text == "Quarterly churn fell to 3.2%\nSupport tickets halved"
    assert element.metadata["ocr_text"] == element.text
    assert ocr_image(Image.new("RGB", (200, 100), "white")) == ""


def test_without_ocr_the_image_is_kept_and_marked(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(image_module, "ocr_available", lambda: False)
    path = tmp_path / "figure.png"
    text_picture(["Hello"]).save(path)
    [element] = ImageLoader().load(path, str(path))
    assert element.text == "" and element.metadata[OCR_SKIPPED] == "image"


def test_decompression_bomb_is_refused(tmp_path: Path) -> None:
    side = int(MAX_IMAGE_PIXELS**0.5) + 100
    path = tmp_path / "bomb.png"
    Image.new("1", (side, side)).save(path)  # a few KB on disk, tens of megapixels decoded
    assert path.stat().st_size < 100_000
    with pytest.raises(LoaderError, match="bomb.png: image refused: .* over the cap"):
        list(ImageLoader(ocr=False).load(path, str(path)))


def test_truncated_image_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "cut.jpg"
    Image.effect_noise((200, 200), 60).convert("RGB").save(path, quality=90)
    path.write_bytes(path.read_bytes()[:1500])
    with pytest.raises(LoaderError, match="cut.jpg: truncated or corrupt image data"):
        list(ImageLoader(ocr=False).load(path, str(path)))


def test_file_named_png_that_is_not_an_image_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "fake.png"
    path.write_text("just some text")
    with pytest.raises(LoaderError, match="not a valid image file"):
        find_loader(path)
