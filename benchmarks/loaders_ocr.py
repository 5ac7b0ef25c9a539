"""What the PDF loader's page images and OCR cost, and what OCR render scale buys.

Run: PYTHONPATH=. .venv/bin/python benchmarks/loaders_ocr.py
Writes benchmarks/results/loaders_ocr.json. Compares, side by side in one run:
- a text PDF loaded with page-image elements vs without (the baseline): page
  images are references, so the ratio should stay near 1.0;
- a scanned PDF OCR'd at render scales 1.0/1.5/2.0 vs scale 1.0 (the baseline):
  seconds per page, and word recall against the text that was drawn.
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image, ImageDraw, ImageFont  # noqa: E402
from reportlab.lib.pagesizes import A4  # noqa: E402
from reportlab.lib.utils import ImageReader  # noqa: E402
from reportlab.pdfgen import canvas  # noqa: E402

from mmrag.loaders import PdfLoader  # noqa: E402
from mmrag.loaders.ocr import ocr_image  # noqa: E402

WORDS = "the reef survey counted colonies of staghorn coral and noted bleaching after a marine heatwave".split()
PAGES = 3
REPEATS = 3


def page_lines(page: int) -> list[str]:
    words = [WORDS[(page * 7 + i) % len(WORDS)] for i in range(12 * 8)]
    return [" ".join(words[i : i + 8]) for i in range(0, len(words), 8)]


def write_scans(path: Path) -> list[str]:
    """Pages that are pictures of 12 lines of 12-point-ish text at 150 dpi, as an office scanner makes."""
    c = canvas.Canvas(str(path), pagesize=A4, invariant=1)
    truth = []
    font = ImageFont.load_default(size=26)
    for page in range(PAGES):
        img = Image.new("L", (1240, 1754), "white")
        draw = ImageDraw.Draw(img)
        for i, line in enumerate(page_lines(page)):
            draw.text((100, 120 + i * 44), line, fill="black", font=font)
            truth.append(line)
        c.drawImage(ImageReader(img), 0, 0, *A4)
        c.showPage()
    c.save()
    return truth


def write_text_pdf(path: Path, pages: int = 20) -> None:
    c = canvas.Canvas(str(path), pagesize=A4, invariant=1)
    for page in range(pages):
        for i, line in enumerate(page_lines(page)):
            c.drawString(60, 780 - i * 16, line)
        c.showPage()
    c.save()


def best_of(fn, repeats: int = REPEATS) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def recall(found: str, truth: list[str]) -> float:
    want = [w for line in truth for w in line.split()]
    got = re.findall(r"[a-z]+", found.lower())
    pool = {}
    for w in got:
        pool[w] = pool.get(w, 0) + 1
    hit = 0
    for w in want:
        if pool.get(w, 0):
            pool[w] -= 1
            hit += 1
    return hit / len(want)


def main() -> None:
    ocr_image(Image.new("RGB", (64, 64), "white"))  # load the ONNX models outside the timings
    with tempfile.TemporaryDirectory() as tmp:
        text_pdf = Path(tmp) / "text.pdf"
        write_text_pdf(text_pdf)
        scans = Path(tmp) / "scans.pdf"
        truth = write_scans(scans)

        base = best_of(lambda: list(PdfLoader(render_pages=False).load(text_pdf, str(text_pdf))))
        with_images = best_of(lambda: list(PdfLoader(render_pages=True).load(text_pdf, str(text_pdf))))
        results = {
            "text_pdf_20_pages": {
                "baseline": "render_pages=False",
                "baseline_s": round(base, 4),
                "render_pages_s": round(with_images, 4),
                "ratio": round(with_images / base, 3),
            },
            "ocr_scanned_pages": {"pages": PAGES, "baseline": "render_scale=1.0", "runs": []},
        }
        baseline_s = None
        for scale in (1.0, 1.5, 2.0):
            loader = PdfLoader(render_pages=False, render_scale=scale)
            elements: list = []
            seconds = best_of(lambda: elements.__setitem__(slice(None), list(loader.load(scans, str(scans)))), 1)
            baseline_s = baseline_s or seconds
            found = "\n".join(e.text for e in elements)
            results["ocr_scanned_pages"]["runs"].append(
                {
                    "render_scale": scale,
                    "seconds_per_page": round(seconds / PAGES, 3),
                    "ratio_vs_baseline": round(seconds / baseline_s, 3),
                    "word_recall": round(recall(found, truth), 4),
                }
            )
    out = Path(__file__).resolve().parent / "results" / "loaders_ocr.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
