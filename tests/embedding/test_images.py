import io
import sys
import threading

import numpy as np
import pytest
from PIL import Image

from mmrag.embedding.images import BadImageError, open_image, prefetched
from mmrag.errors import MmragError
from mmrag.types import ImageKind, ImageRef


@pytest.fixture
def png(tmp_path):
    path = tmp_path / "red.png"
    Image.new("RGB", (20, 10), (255, 0, 0)).save(path)
    return path


def test_paths_strings_bytes_and_pil_images_all_open_to_the_same_rgb_pixels(png):
    want = np.asarray(Image.open(png).convert("RGB"))
    for item in (png, str(png), png.read_bytes(), bytearray(png.read_bytes()), Image.open(png)):
        got = open_image(item)
        assert got.mode == "RGB" and got.size == (20, 10)
        np.testing.assert_array_equal(np.asarray(got), want)


def test_transparency_is_composited_onto_white_like_transformers_processors():
    rgba = Image.new("RGBA", (4, 4), (0, 0, 0, 0))
    assert np.asarray(open_image(rgba)).min() == 255
    assert np.asarray(open_image(Image.new("L", (3, 3), 7))).tolist()[0][0] == [7, 7, 7]


def test_image_ref_resolves_through_the_given_loader(png):
    ref = ImageRef(source="deck.pptx", kind=ImageKind.EMBEDDED, slide=2, index=0)
    seen = []

    def loader(r):
        seen.append(r)
        return Image.open(png)

    assert open_image(ref, image_loader=loader).size == (20, 10)
    assert seen == [ref]


def test_image_ref_loader_failure_names_the_reference():
    ref = ImageRef(source="report.pdf", kind=ImageKind.PAGE_RENDER, page=3)

    def broken(r):
        raise OSError("page out of range")

    with pytest.raises(BadImageError, match=r"report\.pdf page_render page 3.*page out of range"):
        open_image(ref, image_loader=broken)


def test_image_ref_without_loader_or_image_refs_module_says_what_to_pass(monkeypatch):
    monkeypatch.setitem(sys.modules, "mmrag.loaders.image_refs", None)  # the module is unavailable
    ref = ImageRef(source="a.pdf", kind=ImageKind.PAGE_RENDER, page=1)
    with pytest.raises(MmragError, match="image_loader"):
        open_image(ref)


@pytest.mark.parametrize("url", ["http://example.com/a.jpg", "HTTPS://example.com/b.png", " https://x/y"])
def test_urls_are_never_fetched(url):
    with pytest.raises(BadImageError, match="never fetches URLs"):
        open_image(url)


def test_truncated_jpeg_is_a_clear_error_naming_the_file(tmp_path):
    good = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(good, "JPEG")
    path = tmp_path / "cut.jpg"
    path.write_bytes(good.getvalue()[: len(good.getvalue()) // 2])
    with pytest.raises(BadImageError, match=r"cut\.jpg: cannot decode image"):
        open_image(path)


def test_empty_missing_and_non_image_inputs(tmp_path):
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    text = tmp_path / "notes.jpg"
    text.write_text("not an image")
    with pytest.raises(BadImageError, match=r"empty\.png: empty file"):
        open_image(empty)
    with pytest.raises(BadImageError, match="empty image bytes"):
        open_image(b"")
    with pytest.raises(BadImageError, match=r"missing\.png: no such image file"):
        open_image(tmp_path / "missing.png")
    with pytest.raises(BadImageError, match=r"notes\.jpg: not a readable image"):
        open_image(text)
    with pytest.raises(BadImageError, match="not an image input"):
        open_image(42)


def test_zero_size_image_is_refused():
    with pytest.raises(BadImageError, match="zero size"):
        open_image(Image.new("RGB", (0, 5)))


def test_huge_images_are_refused_before_decoding(tmp_path):
    path = tmp_path / "huge.png"
    Image.new("1", (9000, 9000)).save(path)  # 81 MP, a few KB on disk
    with pytest.raises(BadImageError, match=r"huge\.png: image is 9000x9000 = 81,000,000 pixels, over the cap"):
        open_image(path)
    with pytest.raises(BadImageError, match="over the cap of 100"):
        open_image(Image.new("RGB", (20, 10)), max_pixels=100)


def test_reduced_scale_jpeg_decoding_keeps_at_least_the_requested_size(tmp_path):
    path = tmp_path / "big.jpg"
    Image.new("RGB", (1600, 1200), (10, 200, 30)).save(path)
    small = open_image(path, decode_size=lambda size: (190, 150))
    assert small.size == (200, 150)  # 1/8 scale is the largest DCT reduction still >= (190, 150)
    caller_image = Image.open(path)
    open_image(caller_image, decode_size=lambda size: (190, 150))
    assert caller_image.size == (1600, 1200)  # a caller's image object is never shrunk


def test_prefetched_keeps_order_overlaps_and_propagates_errors():
    threads = set()

    def prepare(x):
        threads.add(threading.current_thread().name)
        if x == 7:
            raise ValueError("bad item 7")
        return x * 10

    assert list(prefetched(list(range(7)), 3, prepare)) == [[0, 10, 20], [30, 40, 50], [60]]
    assert all(name.startswith("mmrag-decode") for name in threads)
    assert list(prefetched([1, 2], 5, prepare, workers=0)) == [[10, 20]]
    with pytest.raises(ValueError, match="bad item 7"):
        list(prefetched(list(range(10)), 4, prepare))


def test_a_bad_image_behind_a_reference_is_reported_against_the_reference(tmp_path):
    broken = tmp_path / "x.png"
    broken.write_bytes(b"\x89PNG not really")
    ref = ImageRef(source="deck.pptx", kind=ImageKind.EMBEDDED, slide=4, index=1)
    with pytest.raises(BadImageError, match=r"deck\.pptx embedded slide 4 image 1: not a readable image"):
        open_image(ref, image_loader=lambda r: broken.read_bytes())
