"""Real third-party PDFs for the benchmarks: the manuals Debian documentation
packages install (R's manuals from r-doc-pdf, gnuplot's from gnuplot-doc; GPL),
read where apt put them and never committed here. ``setup()`` installs them when
they are missing and this is a root shell with apt-get, as on the CI machine."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

PACKAGES = ("r-doc-pdf", "gnuplot-doc")
PDFS = (
    "/usr/share/R/doc/manual/R-intro.pdf",
    "/usr/share/R/doc/manual/R-FAQ.pdf",
    "/usr/share/R/doc/manual/R-data.pdf",
    "/usr/share/R/doc/manual/R-lang.pdf",
    "/usr/share/R/doc/manual/R-admin.pdf",
    "/usr/share/doc/gnuplot/gnuplot.pdf",
)


def setup() -> list[Path]:
    """The PDFs, installing their packages first when some are missing."""
    missing = [p for p in PDFS if not Path(p).exists()]
    if missing and shutil.which("apt-get") and os.geteuid() == 0:
        subprocess.run(["apt-get", "install", "-y", "-q", *PACKAGES], check=False, capture_output=True, timeout=900)
    found = [Path(p) for p in PDFS if Path(p).exists()]
    if not found:
        raise SystemExit(f"no Debian documentation PDFs: run `apt-get install -y {' '.join(PACKAGES)}`")
    return found
