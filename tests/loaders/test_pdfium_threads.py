"""pdfium is not thread-safe: two threads calling into it at once crash the
process (pypdfium2's docs). mmrag calls it from threads (the image embedders
decode page renders in a thread pool; the Daft engine runs loaders in threads),
so every call holds one lock. The threads run in a child process: without the
lock the child dies of a segmentation fault instead of the test worker."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

SCRIPT = textwrap.dedent(
    """
    import sys, threading
    from pathlib import Path
    from mmrag.loaders import PdfLoader
    from mmrag.loaders.decoding import render_pdf_page

    pdf = Path(sys.argv[1])
    errors = []

    def work():
        try:
            for k in range(12):
                render_pdf_page(pdf, k % 4 + 1, 1.0)
                texts = [e.text for e in PdfLoader(ocr=False).load(pdf, "threads.pdf") if e.text]
                assert len(texts) == 4 and "line 39" in texts[k % 4], texts
        except BaseException as exc:
            errors.append(repr(exc))

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("errors:", errors)
    """
)


def test_pages_render_and_read_from_many_threads_at_once(pdf_factory, tmp_path: Path) -> None:
    pdf = pdf_factory("threads.pdf", ["\n".join(f"page {p} line {j} solar output by month" for j in range(40)) for p in range(4)])
    script = tmp_path / "threads.py"
    script.write_text(SCRIPT, encoding="utf-8")
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, str(script), str(pdf)], capture_output=True, text=True, timeout=240,
                          cwd=root, env={**os.environ, "PYTHONPATH": str(root)})
    assert done.returncode == 0, f"the child died (code {done.returncode}): {done.stderr[-2000:]}"
    assert done.stdout.strip() == "errors: []"
