"""A cold ``mmrag search`` imports no torch: none for BM25, and none for the default MiniLM's query
(``NumpyBert``; folders it cannot run fall back to sentence-transformers: tests/embedding/test_fast_queries.py).

Checked on ``sys.modules`` in a fresh interpreter, never by timing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


HEAVY = ("torch", "transformers", "sentence_transformers")

RUN_SEARCH = """
import json, sys
import mmrag
import mmrag.cli
after_import = [m for m in {heavy!r} + ("pymilvus",) if m in sys.modules]
from mmrag.cli import app
try:
    app(sys.argv[1:], prog_name="mmrag", standalone_mode=False)
finally:
    print(json.dumps({{"after_import": after_import, "after_search": [m for m in {heavy!r} if m in sys.modules]}}), file=sys.stderr)
"""


def _cold_search(*args: str) -> tuple[list[dict], dict]:
    code = RUN_SEARCH.format(heavy=HEAVY)
    done = subprocess.run([sys.executable, "-c", code, "search", *args, "--json"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout), json.loads(done.stderr.strip().splitlines()[-1])


def test_bm25_search_in_a_fresh_process_never_imports_torch(cold_store: str) -> None:
    hits, loaded = _cold_search("gantry crane containers", "--mode", "bm25", "--store", cold_store, "--k", "3")
    assert loaded == {"after_import": [], "after_search": []}
    assert Path(hits[0]["source"]).name == "harbour.pdf" and hits[0]["page"] == 2


def test_hybrid_search_of_the_default_model_imports_no_torch(cold_store: str) -> None:
    """MiniLM's query runs in numpy (``NumpyBert``): a hybrid search loads neither torch nor sentence-transformers."""
    hits, loaded = _cold_search("how heavy is the load the crane lifts", "--store", cold_store, "--k", "3")
    assert loaded == {"after_import": [], "after_search": []}
    assert Path(hits[0]["source"]).name == "harbour.pdf" and hits[0]["page"] == 2
    assert hits[0]["scores"].get("dense") is not None  # the dense side ran
