"""The rerank step of ``Index.search`` and ``mmrag search --rerank`` on a real Milvus Lite file."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from mmrag.index import Index
from mmrag.reranking import BiEncoderReranker
from mmrag.types import Hit

pytestmark = pytest.mark.slow  # ingests into Milvus Lite and runs MiniLM: seconds per test

NOTES = {
    "solar.md": "# Solar\n\nPhotovoltaic panels produce less electricity in winter because days are short.\n",
    "wind.md": "# Wind\n\nWind turbines feed the grid when the weather is stormy.\n",
    "battery.md": "# Storage\n\nBattery banks store surplus power for the evening peak.\n",
    "pasta.md": "# Cooking\n\nBoil the pasta for nine minutes and salt the water well.\n",
    "tax.md": "# Taxes\n\nSmall firms file quarterly returns before the deadline.\n",
    "hydro.md": "# Hydro\n\nDams turn falling water into electricity for the grid.\n",
}


class CountingReranker(BiEncoderReranker):
    """The real bi-encoder reranker, remembering how many candidates it was given."""

    seen: list[int]

    def score(self, query: str, hits: Sequence[Hit]) -> np.ndarray:
        self.seen = [*getattr(self, "seen", []), len(hits)]
        return super().score(query, hits)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "notes"
    folder.mkdir()
    for name, text in NOTES.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def index(milvus_uri: str, text_embedder, corpus: Path):
    idx = Index(milvus_uri, collection="notes", embedder=text_embedder)
    assert idx.ingest([corpus]).ok
    yield idx
    idx.close()


def test_search_reranks_k_times_factor_candidates(index: Index, text_embedder) -> None:
    rr = CountingReranker(embedder=text_embedder)
    query = "why do solar panels make less power in winter"
    hits = index.search(query, k=2, rerank=rr, candidates_factor=3)
    assert rr.seen == [6]  # k * factor first-stage hits went to the reranker
    assert len(hits) == 2
    assert Path(hits[0].chunk.source).name == "solar.md"
    for h in hits:
        assert {"first_stage", "rerank", "adaptive"} <= set(h.scores)
        assert h.score == h.scores["rerank"]
    assert hits[0].scores["rerank"] >= hits[1].scores["rerank"]
    first = index.search(query, k=6)
    assert hits[0].scores["first_stage"] == next(f.score for f in first if f.chunk.id == hits[0].chunk.id)


def test_search_blend_and_bad_factor(index: Index, text_embedder) -> None:
    hits = index.search("electricity for the grid", k=3, rerank=BiEncoderReranker(embedder=text_embedder), blend=0.5)
    assert len(hits) == 3 and all(h.score == h.scores["blend"] for h in hits)
    with pytest.raises(ValueError, match="candidates_factor"):
        index.search("grid", k=3, rerank=BiEncoderReranker(embedder=text_embedder), candidates_factor=0)


def test_cli_search_with_rerank(index: Index, milvus_uri: str, capsys: pytest.CaptureFixture[str]) -> None:
    from typer.testing import CliRunner

    from mmrag.cli import app

    index.close()
    result = CliRunner().invoke(
        app, ["search", "dams and falling water", "--store", milvus_uri, "--collection", "notes", "--k", "2",
              "--rerank", "bi-encoder", "--json"],
    )
    assert result.exit_code == 0, result.output
    hits = json.loads(result.stdout)
    assert len(hits) == 2 and Path(hits[0]["source"]).name == "hydro.md"
    assert {"first_stage", "rerank"} <= set(hits[0]["scores"])
    bad = CliRunner().invoke(app, ["search", "x", "--store", milvus_uri, "--collection", "notes", "--rerank", "colbert"])
    assert bad.exit_code == 2 and "valid: bi-encoder, cross-encoder" in bad.output
