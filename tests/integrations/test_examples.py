"""Each adapter example runs offline end to end and prints what it promises."""

from __future__ import annotations

import re
import runpy
import sys
from pathlib import Path

import pytest

from mmrag.loaders import video_of
from tests.integrations.adapter_helpers import ROOT

pytestmark = pytest.mark.slow


def run_example(name: str, args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> str:
    monkeypatch.chdir(ROOT)  # the examples chdir to the repo; this restores the cwd afterwards
    monkeypatch.setattr(sys, "argv", [name, *args])
    runpy.run_path(str(ROOT / "examples" / name), run_name="__main__")
    return capsys.readouterr().out


def test_llama_index_rag(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    out = run_example("llama_index_rag.py", ["--store", str(tmp_path / "a.db")], monkeypatch, capsys)
    assert re.search(r"read \d+ nodes from examples/data", out)
    battery = out.split("Q: Why do lithium")[1].split("Q: ")[0]
    assert "examples/data/solar_report.pdf p.2:" in battery  # the page about batteries is among the sources
    assert "examples/data/coffee_guide.pdf" in out.split("alpha=0.3")[1].splitlines()[1]


def test_langchain_agent_tool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    out = run_example("langchain_agent_tool.py", ["--store", str(tmp_path / "b.db")], monkeypatch, capsys)
    # a video's sidecar subtitles are read with the video (and reported skipped)
    n_files = sum(1 for f in (ROOT / "examples" / "data").iterdir() if f.is_file() and video_of(f) is None)
    assert f"files ingested: {n_files}," in out and "failed: 0" in out
    assert "tool mmrag_search({'query': 'perovskite tandem efficiency', 'k': 2}) ->\n[1] solar_report.pdf, p. 3 (chunk_id" in out
    assert out.count("source=examples/data/solar_report.pdf page=") >= 1


def test_image_query(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    out = run_example("image_query.py", ["--workdir", str(tmp_path)], monkeypatch, capsys)
    assert "tiny RANDOM CLIP" in out
    lc = out.split("LangChain similarity_search")[1].split("LlamaIndex")[0]
    assert sorted(line.split()[1] for line in lc.strip().splitlines()[1:]) == ["blue_stripe.png", "green_circle.png", "red_square.png"]
    i2i = out.split("image_to_image_retrieve(blue_stripe.png):")[1].strip().splitlines()
    assert i2i[0].split() == ["+1.0000", "blue_stripe.png"] and len(i2i) == 3


def test_hybrid_rerank(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    out = run_example("hybrid_rerank.py", ["--store", str(tmp_path / "c.db")], monkeypatch, capsys)
    for section in ("dense:", "bm25:", "hybrid:"):
        assert out.split(section)[1].strip().splitlines()[0].split()[1:3] == ["examples/data/solar_report.pdf", "p.2:"]
    lc = out.split("rerank_depth=10):")[1].split("LlamaIndex")[0].strip().splitlines()
    li = out.split("MmragRerank top 3:")[1].strip().splitlines()
    rerank_scores = [line.split()[1] for line in lc]
    assert rerank_scores == sorted(rerank_scores, reverse=True) and len(lc) == 3
    # Both adapters rerank the same candidates with the same reranker: same result.
    assert [line.split()[0] for line in li] == rerank_scores
