"""Real files for loader and chunking tests, written by the libraries users' files come from
(reportlab and pypdf for PDFs, python-pptx for decks, PIL for images)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from mmrag.loaders.ocr import ocr_available

needs_ocr = pytest.mark.skipif(not ocr_available(), reason="the 'ocr' extra (rapidocr) is not installed")


def text_picture(lines: list[str], size: tuple[int, int] = (640, 160), font_size: int = 32) -> Image.Image:
    """Black text on white, in Pillow's bundled font: what a screenshot or scan looks like."""
    img = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(img)
    for i, line in enumerate(lines):
        draw.text((20, 20 + i * int(font_size * 1.5)), line, fill="black", font=ImageFont.load_default(size=font_size))
    return img


def png_bytes(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def write_text_pdf(path: Path, pages: list[str], title: str = "Test report", image_on_page: int | None = None) -> Path:
    """A PDF with one paragraph per page (reportlab canvas), optionally a picture on one page."""
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=(400, 300), invariant=1)
    c.setTitle(title)
    for number, text in enumerate(pages, start=1):
        obj = c.beginText(20, 270)
        for line in text.split("\n"):
            obj.textLine(line)
        c.drawText(obj)
        if image_on_page == number:
            c.drawImage(ImageReader(Image.new("RGB", (64, 48), (200, 30, 30))), 20, 20, 64, 48)
        c.showPage()
    c.save()
    return path


def write_scanned_pdf(path: Path, lines: list[str], text_pages_before: list[str] = ()) -> Path:
    """Text pages, then one page that is only a picture of ``lines`` (no text layer)."""
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=(400, 150), invariant=1)
    for text in text_pages_before:
        c.drawString(20, 120, text)
        c.showPage()
    c.drawImage(ImageReader(text_picture(lines, (800, 300), 34)), 0, 0, 400, 150)
    c.showPage()
    c.save()
    return path


def write_deck(tmp_path: Path) -> Path:
    """Two slides: body boxes added out of reading order, a table, notes, a picture with alt text."""
    from pptx import Presentation
    from pptx.util import Inches, Pt

    prs = Presentation()
    prs.core_properties.title = "Quarterly review"
    blank_title = prs.slide_layouts[5]  # "Title Only"
    s1 = prs.slides.add_slide(blank_title)
    s1.shapes.title.text = "Revenue by region"
    lower = s1.shapes.add_textbox(Inches(1), Inches(4), Inches(6), Inches(1))
    lower.text_frame.text = "Second: the north grew fastest"
    upper = s1.shapes.add_textbox(Inches(1), Inches(2), Inches(6), Inches(1))
    upper.text_frame.text = "First: total revenue rose 12 percent"
    table = s1.shapes.add_table(2, 2, Inches(1), Inches(5), Inches(6), Inches(1)).table
    for r, row in enumerate([("Region", "Growth"), ("North", "19%")]):
        for col, value in enumerate(row):
            table.cell(r, col).text = value
    s1.notes_slide.notes_text_frame.text = "Mention that the warehouse fire delayed shipments in March."
    s2 = prs.slides.add_slide(blank_title)
    s2.shapes.title.text = "Team photo"
    caption = s2.shapes.add_textbox(Inches(1), Inches(6), Inches(6), Inches(0.6))
    caption.text_frame.text = "Our support team at the summer offsite"
    caption.text_frame.paragraphs[0].runs[0].font.size = Pt(14)
    far = s2.shapes.add_textbox(Inches(6), Inches(1.5), Inches(3), Inches(0.6))
    far.text_frame.text = "Unrelated footer text far from the picture"
    pic = s2.shapes.add_picture(io.BytesIO(png_bytes(Image.new("RGB", (120, 80), (30, 90, 200)))), Inches(1), Inches(3), Inches(3))
    pic._element.nvPicPr.cNvPr.set("descr", "Twelve people smiling on a lawn")
    path = tmp_path / "review.pptx"
    prs.save(path)
    return path
