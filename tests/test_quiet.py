"""Quiet by default (issue 13 bug 8): importing mmrag and ingesting print nothing a user
did not ask for, even in an app that configures logging, and mmrag sets no handlers.

Each check runs in a fresh interpreter, so what reaches stdout/stderr is what a user sees."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import write_pdf

ROOT = Path(__file__).resolve().parents[1]

# An app in the LangChain/LlamaIndex style: logging configured at WARNING for everything,
# then mmrag used through its Python API. Prints the handlers of mmrag's loggers at the end.
APP = """
import json, logging, sys
logging.basicConfig(level=logging.WARNING)
import mmrag
index = mmrag.Index(sys.argv[1], "quiet")
index.ingest([sys.argv[2]])
index.search("solar panels", k=2)
index.close()
ours = {n: len(l.handlers) for n, l in logging.root.manager.loggerDict.items()
        if n.startswith("mmrag") and isinstance(l, logging.Logger) and l.handlers}
print(json.dumps({"mmrag_handlers": ours, "root_handlers": len(logging.root.handlers)}))
"""


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


@pytest.fixture
def noisy_folder(tmp_path: Path) -> Path:
    """A PDF pypdf warns about (a wrong startxref pointer it repairs), and a table row
    far longer than the model's 512 tokens (the tokenizer's length warning)."""
    folder = tmp_path / "docs"
    folder.mkdir()
    pdf = write_pdf(folder / "report.pdf", ["Solar panels convert sunlight into electricity.", "Batteries store it."])
    data = pdf.read_bytes()
    pointer = re.search(rb"startxref\s+(\d+)", data)
    assert pointer is not None
    pdf.write_bytes(data[: pointer.start(1)] + str(int(pointer[1]) + 7).encode() + data[pointer.end(1) :])
    (folder / "table.csv").write_text("name,notes\nrow one," + " ".join(f"word{i}" for i in range(900)) + "\n")
    return folder


def test_import_prints_nothing() -> None:
    out = subprocess.run([sys.executable, "-c", "import mmrag; mmrag.Index"], capture_output=True, text=True,
                         env=_env(), timeout=120)
    assert out.returncode == 0 and out.stdout == "" and out.stderr == ""


@pytest.mark.slow
def test_cli_ingest_prints_only_its_report(tmp_path: Path, noisy_folder: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "mmrag.cli", "ingest", str(noisy_folder), "--store", str(tmp_path / "cli.db")],
        capture_output=True, text=True, env=_env(), timeout=600,
    )
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""
    lines = out.stdout.splitlines()
    assert lines[0].startswith("files ingested: 2")
    # pypdf's warnings are one note of the file's report, not console lines of their own
    (note,) = [line for line in lines if "startxref" in line]
    assert note.startswith("note: ") and "report.pdf: the file's parser warned" in note


@pytest.mark.slow
def test_python_api_in_an_app_with_logging_configured_prints_nothing(tmp_path: Path, noisy_folder: Path) -> None:
    out = subprocess.run([sys.executable, "-c", APP, str(tmp_path / "api.db"), str(noisy_folder)],
                         capture_output=True, text=True, env=_env(), timeout=600)
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""  # no gRPC tracebacks, no "Loading weights" bars, no tokenizer length warnings
    assert json.loads(out.stdout) == {"mmrag_handlers": {}, "root_handlers": 1}  # the app's own handler only
