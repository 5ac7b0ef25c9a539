"""PDF text layers and OCR on real documents (Debian's R and gnuplot manuals).

Run: PYTHONPATH=. .venv/bin/python benchmarks/loaders_real_pdfs.py [--quick]
Writes benchmarks/results/loaders_real_pdfs.json. Side by side in one run:
- text layers: pypdf's ``extract_text`` (the baseline) against pypdfium2's text
  page: seconds per page, word-level agreement between the two, and how many
  warnings each printed;
- OCR of scans: real pages rendered at 150 dpi (what an office scanner makes) and
  written back as image-only PDFs, read by ``PdfLoader`` at several render scales,
  with and without rapidocr's angle classifier, against today's setting (scale
  2.0, classifier on): seconds per page and word recall against the page's own
  text layer.
"""

from __future__ import annotations

import io
import logging
import re
import sys
import tempfile
import time
import warnings
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import debian_docs  # noqa: E402
import harness  # noqa: E402

NAME = "loaders_real_pdfs"
SCALES = (0.75, 1.0, 1.25, 1.5, 2.0)
TODAY = (2.0, True)  # render scale, angle classifier: the setting before this benchmark
SCAN_DPI = 150


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def agreement(a: str, b: str) -> float:
    """Word-multiset F1 of two extractions of one page (1.0: the same words)."""
    wa, wb = Counter(words(a)), Counter(words(b))
    if not wa and not wb:
        return 1.0
    common = sum((wa & wb).values())
    return 2 * common / (sum(wa.values()) + sum(wb.values()))


def recall(found: str, truth: str) -> float:
    want = Counter(words(truth))
    return sum((Counter(words(found)) & want).values()) / max(1, sum(want.values()))


class _Count(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.n = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.n += 1


def text_layers(pdfs: list[Path], max_pages: int | None) -> list[list]:
    import pypdfium2 as pdfium
    from pypdf import PdfReader

    rows = []
    for path in pdfs:
        counter = _Count()
        logging.getLogger("pypdf").addHandler(counter)  # count, and keep them off the console
        logging.getLogger("pypdf").propagate = False
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            t = time.perf_counter()
            reader = PdfReader(path)
            pages = reader.pages[:max_pages] if max_pages else reader.pages
            by_pypdf = [p.extract_text() or "" for p in pages]
            pypdf_s = time.perf_counter() - t
        logging.getLogger("pypdf").removeHandler(counter)
        logging.getLogger("pypdf").propagate = True
        t = time.perf_counter()
        doc = pdfium.PdfDocument(path)
        n = len(by_pypdf)
        by_pdfium = []
        for i in range(n):
            page = doc[i]
            textpage = page.get_textpage()
            by_pdfium.append(textpage.get_text_bounded())
            textpage.close()
            page.close()
        doc.close()
        pdfium_s = time.perf_counter() - t
        agree = sum(agreement(a, b) for a, b in zip(by_pypdf, by_pdfium)) / max(1, n)
        rows.append([path.name, n, round(1000 * pypdf_s / n, 1), round(1000 * pdfium_s / n, 1),
                     harness.ratio(pdfium_s, pypdf_s), round(agree, 4), counter.n + len(caught)])
    return rows


def make_scans(pdfs: list[Path], per_pdf: int, folder: Path) -> tuple[Path, list[str]]:
    """One image-only PDF of ``per_pdf`` pages from each manual; returns it and each page's true text."""
    import pypdfium2 as pdfium

    images, truth = [], []
    for path in pdfs:
        doc = pdfium.PdfDocument(path)
        picked = [i for i in range(min(len(doc), 40)) if len(words(doc[i].get_textpage().get_text_bounded())) > 150]
        for i in picked[2: 2 + per_pdf]:  # skip title pages; body pages with real text
            page = doc[i]
            truth.append(page.get_textpage().get_text_bounded())
            images.append(page.render(scale=SCAN_DPI / 72, grayscale=True).to_pil())
        doc.close()
    scans = folder / "scans.pdf"
    images[0].save(scans, "PDF", save_all=True, append_images=images[1:], resolution=SCAN_DPI)
    return scans, truth


def ocr_runs(scans: Path, truth: list[str], scales: tuple[float, ...]) -> list[list]:
    from mmrag.loaders import PdfLoader
    from mmrag.loaders import ocr as ocr_module
    from mmrag.loaders.ocr_cache import OcrCache, use_cache

    configs = [TODAY] + [(s, False) for s in scales]
    rows = []
    for scale, classifier in configs:
        ocr_module._ENGINE_PARAMS["Global.use_cls"] = classifier
        ocr_module._engine.cache_clear()
        ocr_module._salt.cache_clear()
        ocr_module.ocr_image(io_image())  # load the models outside the timing
        with use_cache(OcrCache()):  # a fresh cache: every page is really read
            t = time.perf_counter()
            elements = list(PdfLoader(render_pages=False, render_scale=scale).load(scans, str(scans)))
            seconds = time.perf_counter() - t
        by_page = {e.page: e.text for e in elements if e.metadata.get("ocr")}
        rec = sum(recall(by_page.get(n + 1, ""), t) for n, t in enumerate(truth)) / len(truth)
        rows.append([scale, "on" if classifier else "off", round(seconds / len(truth), 3), round(rec, 4)])
    ocr_module._ENGINE_PARAMS["Global.use_cls"] = False
    ocr_module._engine.cache_clear()
    ocr_module._salt.cache_clear()
    base = rows[0][2]
    for row in rows:
        row.append(harness.ratio(row[2], base))
    return rows


def io_image():
    from PIL import Image

    return Image.new("RGB", (64, 64), "white")


def main(argv: list[str] | None = None) -> None:
    p = harness.parser(__doc__.split("\n\n")[0])
    args = p.parse_args(argv)
    info = harness.machine()
    pdfs = debian_docs.setup()
    if args.quick:
        pdfs = pdfs[:1]
    layer_rows = text_layers(pdfs, 8 if args.quick else None)
    with tempfile.TemporaryDirectory() as tmp:
        scans, truth = make_scans(pdfs, 1 if args.quick else 2, Path(tmp))
        ocr_rows = ocr_runs(scans, truth, (1.0,) if args.quick else SCALES)
    info["load_avg_at_end"] = [round(x, 2) for x in __import__("os").getloadavg()]
    tables = [
        harness.Table("Text layers: pypdf (baseline) vs pypdfium2",
                      ["PDF", "pages", "pypdf ms/page", "pypdfium2 ms/page", "ratio pdfium/pypdf", "word agreement (F1)",
                       "pypdf warnings"], layer_rows),
        harness.Table(f"OCR of real scans ({len(truth)} pages at {SCAN_DPI} dpi): render scale and angle classifier",
                      ["render scale", "angle classifier", "seconds/page", "word recall", "ratio vs scale 2.0 + classifier"],
                      ocr_rows),
    ]
    notes = [
        "PDFs: " + ", ".join(p.name for p in pdfs) + " (Debian r-doc-pdf and gnuplot-doc, GPL), installed by "
        "benchmarks/debian_docs.py, not committed.",
        "Word agreement is the F1 of the two extractions' word multisets per page, averaged: LaTeX ligatures and "
        "hyphenation are where they differ. pypdfium2's warnings: it prints none (it has no Python logger).",
        "Scans: the pages with more than 150 words among each manual's first 40, rendered in grey at 150 dpi and saved "
        "by PIL as an image-only PDF; recall counts the words of the page's text layer found in the OCR text.",
        "Seconds per page include the render, the pixel hash and OCR, with a fresh OCR cache for every setting. "
        "The machine is shared with other sessions: load averages at start and end are in the machine block.",
    ]
    path = harness.write_result(args.out, NAME, "PDF text layers and OCR on real documents", quick=args.quick,
                                machine_info=info, tables=tables, notes=notes)
    print(path)


if __name__ == "__main__":
    main()
