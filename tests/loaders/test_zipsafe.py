"""Zip containers inflate as checked streams: bombs and forged sizes fail naming the member."""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import pytest

from mmrag.errors import LoaderError
from mmrag.loaders import PptxLoader
from mmrag.loaders.zipsafe import ZipLimits, check_zip, declared_size, iter_member, read_member
from tests.hostile_files import write_deck_bomb, write_zip_member

MiB = 1024 * 1024


def forge_declared_size(path: Path, name: str, fake: int) -> None:
    """Rewrite a member's declared inflated size in both headers, as a forger would."""
    data = bytearray(path.read_bytes())
    encoded = name.encode()
    for sig, size_at, name_at in ((b"PK\x03\x04", 22, 30), (b"PK\x01\x02", 24, 46)):
        at = data.find(sig)
        while at >= 0:
            if data[at + name_at : at + name_at + len(encoded)] == encoded:
                struct.pack_into("<I", data, at + size_at, fake)
            at = data.find(sig, at + 4)
    path.write_bytes(bytes(data))


def test_honest_members_stream_in_bounded_pieces(tmp_path: Path) -> None:
    path = tmp_path / "ok.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.xml", "<a>" + "x" * 200_000 + "</a>")
        zf.writestr("b.bin", bytes(range(256)) * 10, compress_type=zipfile.ZIP_STORED)
    check_zip(path)
    assert declared_size(path) == 200_007 + 2560
    with zipfile.ZipFile(path) as zf:
        pieces = list(iter_member(zf, "a.xml"))
        assert max(len(p) for p in pieces) <= 64 * 1024 and len(pieces) > 1
        assert b"".join(pieces) == zf.read("a.xml")
        assert read_member(zf, "b.bin") == bytes(range(256)) * 10


def test_member_over_its_cap_names_the_member(tmp_path: Path) -> None:
    path = tmp_path / "big.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("small.xml", "<a/>")
        write_zip_member(zf, "ppt/slides/slide1.xml", 3 * MiB)
    limits = ZipLimits(max_xml_member_bytes=2 * MiB)
    with pytest.raises(LoaderError, match=r"zip member 'ppt/slides/slide1.xml' declares 3 MB, over the limit of 2 MB"):
        check_zip(path, limits)
    media = ZipLimits(max_member_bytes=1 * MiB)
    check_zip(path, ZipLimits(max_xml_member_bytes=4 * MiB))  # the XML cap is its own
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as zf:
        write_zip_member(zf, "ppt/media/video.mp4", 2 * MiB)
    with pytest.raises(LoaderError, match=r"'ppt/media/video.mp4' declares 2 MB.*max_member_bytes"):
        check_zip(path, ZipLimits(max_xml_member_bytes=4 * MiB, max_member_bytes=media.max_member_bytes))


def test_forged_declared_size_is_caught_while_inflating(tmp_path: Path) -> None:
    """A member that declares 1 KB and inflates to 20 MB: stopped just past 1 KB,
    whatever the caps, before anything large is held."""
    path = tmp_path / "forged.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        write_zip_member(zf, "word/document.xml", 20 * MiB, b"\x00")
    forge_declared_size(path, "word/document.xml", 1024)
    with pytest.raises(LoaderError, match=r"'word/document.xml' inflates past the 1,024 bytes it declares"):
        check_zip(path)


def test_ratio_and_total_limits(tmp_path: Path) -> None:
    path = tmp_path / "zeros.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        write_zip_member(zf, "a.bin", 3 * MiB, b"\x00")
        write_zip_member(zf, "b.bin", 3 * MiB, b"\x00")
    with pytest.raises(LoaderError, match=r"'a.bin' inflates more than 100 times its compressed size"):
        check_zip(path, ZipLimits(max_ratio=100, ratio_floor_bytes=1 * MiB))
    with pytest.raises(LoaderError, match=r"zip archive inflates to over the limit of 5 MB by member 'b.bin'"):
        check_zip(path, ZipLimits(max_total_bytes=5 * MiB))
    with pytest.raises(LoaderError, match=r"2 members, over the limit of 1"):
        check_zip(path, ZipLimits(max_members=1))
    with pytest.raises(ValueError, match="max_ratio must be > 0"):
        ZipLimits(max_ratio=0)


def test_damaged_member_is_a_damaged_archive(tmp_path: Path) -> None:
    path = tmp_path / "cut.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.xml", "<a>" + "".join(str(i) for i in range(50_000)) + "</a>")
    data = bytearray(path.read_bytes())
    data[200] ^= 0xFF  # inside a.xml's compressed bytes
    path.write_bytes(bytes(data))
    with pytest.raises(LoaderError, match=r"damaged zip archive: member 'a.xml'|'a.xml' inflates past"):
        check_zip(path)


def test_deck_bomb_fails_before_python_pptx_inflates_it(deck_path: Path, tmp_path: Path) -> None:
    """The deck's slide XML padded to 70 MB (70 KB compressed): refused by the default
    XML cap, naming the part; the untouched deck still loads."""
    bomb = write_deck_bomb(deck_path, tmp_path / "bomb.pptx", 70 * MiB)
    assert bomb.stat().st_size < 1 * MiB
    with pytest.raises(LoaderError, match=r"'ppt/slides/slide1.xml' declares 70 MB, over the limit of 64 MB") as info:
        list(PptxLoader(ocr=False).load(bomb, str(bomb)))
    assert info.value.path == str(bomb)
    assert list(PptxLoader(ocr=False).load(deck_path, str(deck_path)))
