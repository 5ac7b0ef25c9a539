"""The "tested with" versions the docs name are the ones installed here (``make test``
installs them), so the docs cannot drift from what the suite ran against."""

from __future__ import annotations

import re
from importlib.metadata import version
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ["README.md", "docs/langchain.md", "docs/llama_index.md", "integrations/langchain/README.md",
        "integrations/llama_index/README.md"]
PACKAGES = ["langchain-core", "langchain-tests", "langchain-classic", "llama-index-core", "pymilvus", "milvus-lite"]


@pytest.mark.parametrize("doc", DOCS)
def test_named_versions_are_the_installed_ones(doc: str) -> None:
    text = (ROOT / doc).read_text(encoding="utf-8").replace("*", "")
    named = {p: re.findall(rf"\b{re.escape(p)} (\d+\.\d+\.\d+)", text) for p in PACKAGES}
    assert any(named.values()), f"{doc} names no tested version"
    for package, found in named.items():
        for v in found:
            assert v == version(package), f"{doc} says {package} {v}; installed is {version(package)}"
