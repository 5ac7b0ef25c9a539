"""What the PDF loader's page images and OCR cost, and what OCR render scale buys.

Run: PYTHONPATH=. .venv/bin/python benchmarks/loaders_ocr.py
Writes benchmarks/results/loaders_ocr.json. Compares, side by side in one run:
- a text PDF loaded with page-image elements vs without (the baseline): page
  images are references, so the ratio should stay near 1.0;
- a scanned PDF OCR'd at render scales 1.0/1.5/2.0 vs scale 1.0 (the baseline):
  seconds per page, and word recall against the text that was drawn.

With ``--settings [--quick]`` it writes loaders_ocr_settings.json instead: real
pages of Debian's R and gnuplot manuals scanned at 150 dpi, each OCR'd in turn
with rapidocr's settings before issue 17 (``ocr.BASELINE_PARAMS``) and with
today's defaults, both from the loader's OCR render: CPU and wall seconds of the
OCR call per page, and word recall against the page's own text layer.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import harness  # noqa: E402
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


def settings_main(quick: bool, out_dir: Path) -> None:
    """Today's OCR defaults against the baseline settings on real scans, page by page in turn."""
    import resource

    import numpy as np
    import pypdfium2 as pdfium

    import debian_docs
    from loaders_real_pdfs import make_scans
    from loaders_real_pdfs import recall as page_recall
    from mmrag.loaders import ocr
    from mmrag.loaders.pdf import OCR_RENDER_SCALE

    def cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)  # every onnxruntime thread of this process
        return usage.ru_utime + usage.ru_stime

    configs = {"baseline (before issue 17)": ocr.BASELINE_PARAMS,
               "today's defaults": {**ocr._ENGINE_PARAMS, **ocr.speed_params()},
               "today's, one thread (the overlapped read worker)":
                   {**ocr._ENGINE_PARAMS, "EngineConfig.onnxruntime.intra_op_num_threads": 1}}
    engines = {name: ocr.build_engine(params) for name, params in configs.items()}
    info = harness.machine()
    pdfs = debian_docs.setup()[:1] if quick else debian_docs.setup()
    with tempfile.TemporaryDirectory() as tmp:
        scans, truth = make_scans(pdfs, 1 if quick else 2, Path(tmp))
        doc = pdfium.PdfDocument(scans)
        images = [np.asarray(doc[i].render(scale=OCR_RENDER_SCALE).to_pil().convert("RGB")) for i in range(len(doc))]
        doc.close()
    for engine in engines.values():
        engine(images[0])  # load the ONNX models outside the timings
    spent = {name: [0.0, 0.0, 0.0] for name in engines}  # CPU s, wall s, summed recall
    t0 = time.perf_counter()
    for image, text in zip(images, truth):
        for name, engine in engines.items():  # in turn, so both see the same load
            c, t = cpu(), time.perf_counter()
            found = ocr.result_text(engine(image))
            spent[name][0] += cpu() - c
            spent[name][1] += time.perf_counter() - t
            spent[name][2] += page_recall(found, text)
    n = len(images)
    base_cpu, base_wall = spent[next(iter(spent))][:2]
    rows = [[name, n, round(c / n, 3), round(w / n, 3), round(r / n, 4), harness.ratio(c, base_cpu), harness.ratio(w, base_wall)]
            for name, (c, w, r) in spent.items()]
    info["load_avg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    table = harness.Table(f"OCR settings on real scans ({n} pages at 150 dpi, render scale {OCR_RENDER_SCALE:g})",
                          ["settings", "pages", "CPU s/page", "wall s/page", "word recall", "CPU ratio vs baseline",
                           "wall ratio vs baseline"], rows)
    notes = [
        "Settings: " + "; ".join(f"{name}: {params}" for name, params in configs.items()) + ".",
        "CPU seconds are the process's user+system time during the OCR call (all onnxruntime threads); wall seconds "
        "depend on the machine's load, stated in the machine block. Pages are OCR'd by each setting in turn.",
        "Scans: loaders_real_pdfs.make_scans (the pages with more than 150 words among each manual's first 40, "
        "rendered in grey at 150 dpi as an image-only PDF), rendered again as PdfLoader renders a scan for OCR.",
    ]
    path = harness.write_result(out_dir, "loaders_ocr_settings", "OCR settings: today's defaults vs the baseline",
                                quick=quick, machine_info=info, tables=[table], notes=notes,
                                raw={"seconds_total": round(time.perf_counter() - t0, 1)})
    print(path)


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
    cli = harness.parser(__doc__.split("\n\n")[0])
    cli.add_argument("--settings", action="store_true", help="today's OCR defaults vs the baseline on real scans")
    args = cli.parse_args()
    if args.settings:
        settings_main(args.quick, args.out)
    else:
        main()
