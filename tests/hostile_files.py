"""Hostile inputs, small on disk and huge when decoded, written by the real
libraries (pypdf, zipfile): the memory cases of the bad-input tests."""

from __future__ import annotations

import zipfile
from pathlib import Path

MiB = 1024 * 1024

# A page that draws something (over the loader's blank-page threshold), so it is taken for a scan.
_DRAWING = b"".join(b"%d %d 10 10 re f\n" % (x * 12, y * 12) for x in range(8) for y in range(8))


# The same square drawn over and over: as many content bytes, but one shape for OCR to look at.
ONE_SQUARE = b"10 10 10 10 re f\n" * 64


def write_sized_pdf(path: Path, sizes: list[tuple[float, float, float]], drawing: bytes = _DRAWING) -> Path:
    """A PDF with one drawn, text-less page per ``(width_pt, height_pt, user_unit)``."""
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, FloatObject, NameObject

    writer = PdfWriter()
    for width, height, user_unit in sizes:
        page = writer.add_blank_page(width=width, height=height)
        stream = DecodedStreamObject()
        stream.set_data(drawing)
        page[NameObject("/Contents")] = writer._add_object(stream)
        if user_unit != 1:
            page[NameObject("/UserUnit")] = FloatObject(user_unit)
    with path.open("wb") as fh:
        writer.write(fh)
    return path


def write_zip_member(zf: zipfile.ZipFile, name: str, size: int, byte: bytes = b" ") -> None:
    """A deflated member of ``size`` repeated bytes, written in pieces (never whole in memory)."""
    info = zipfile.ZipInfo(name)
    info.compress_type = zipfile.ZIP_DEFLATED
    with zf.open(info, "w", force_zip64=size > 2**31) as out:
        piece = byte * MiB
        for _ in range(size // MiB):
            out.write(piece)
        out.write(byte * (size % MiB))


def write_deck_bomb(deck: Path, out: Path, slide_bytes: int) -> Path:
    """``deck`` with its first slide's XML padded to ``slide_bytes`` (a zip bomb)."""
    with zipfile.ZipFile(deck) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename == "ppt/slides/slide1.xml":
                write_zip_member(dst, info.filename, slide_bytes)
            else:
                dst.writestr(info, src.read(info))
    return out


def write_long_line(path: Path, size: int, word: bytes = b"lorem ") -> Path:
    """A text file that is one line of ``size`` bytes, written in pieces."""
    piece = word * (MiB // len(word))
    with path.open("wb") as fh:
        left = size
        while left > 0:
            fh.write(piece[:left])
            left -= len(piece)
    return path


def write_one_cue_srt(path: Path, cue_bytes: int) -> Path:
    """A SubRip file whose single cue is ``cue_bytes`` of words on one line."""
    with path.open("wb") as fh:
        fh.write(b"1\n00:00:01,000 --> 00:00:05,000\n")
    with path.open("ab") as fh:
        piece = b"speech " * (MiB // 7)
        left = cue_bytes
        while left > 0:
            fh.write(piece[:left])
            left -= len(piece)
        fh.write(b"\n")
    return path


def write_long_contents_pdf(path: Path, streams: int = 20_000) -> Path:
    """A one-page PDF whose /Contents is an array of ``streams`` streams: past
    pypdf's CONTENT_STREAM_ARRAY_MAX_LENGTH (10,000), so reading it raises LimitReachedError."""
    from pypdf import PdfWriter
    from pypdf.generic import ArrayObject, DecodedStreamObject, NameObject

    writer = PdfWriter()
    page = writer.add_blank_page(width=200, height=200)
    parts = ArrayObject()
    for _ in range(streams):
        stream = DecodedStreamObject()
        stream.set_data(b"1 1 1 1 re f\n")
        parts.append(writer._add_object(stream))
    page[NameObject("/Contents")] = parts
    with path.open("wb") as fh:
        writer.write(fh)
    return path


def rewrite_zip(src: Path, out: Path, member: str, edit) -> Path:
    """``src`` copied to ``out`` with ``member``'s bytes passed through ``edit``."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            zout.writestr(info, edit(data) if info.filename == member else data)
    return out


def write_deck_missing_part(deck: Path, out: Path) -> Path:
    """``deck`` without the relationship rId7 (its first slide) in the presentation's
    part list: python-pptx raises KeyError "no relationship with key 'rId7'"."""
    import re

    return rewrite_zip(deck, out, "ppt/_rels/presentation.xml.rels", lambda xml: re.sub(rb'<Relationship Id="rId7"[^>]*/>', b"", xml))


def write_deep_docx(docx: Path, out: Path, depth: int = 300) -> Path:
    """``docx`` with its body nested ``depth`` content controls deep: lxml stops at 256 levels."""
    nest = b"<w:sdt><w:sdtContent>" * depth + b"</w:sdtContent></w:sdt>" * depth
    return rewrite_zip(docx, out, "word/document.xml", lambda xml: xml.replace(b"<w:body>", b"<w:body>" + nest, 1))


def write_png_text_bomb(path: Path, inflated: int = 20 * MiB) -> Path:
    """A valid 8x8 PNG with a zTXt chunk that inflates to ``inflated`` bytes (40 KB on disk)."""
    import io
    import struct
    import zlib

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(buf, "PNG")
    png = buf.getvalue()
    payload = b"Comment\x00\x00" + zlib.compress(b"a" * inflated, 9)
    chunk = struct.pack(">I", len(payload)) + b"zTXt" + payload + struct.pack(">I", zlib.crc32(b"zTXt" + payload))
    ihdr_end = 8 + 25  # signature, then the IHDR chunk
    path.write_bytes(png[:ihdr_end] + chunk + png[ihdr_end:])
    return path
