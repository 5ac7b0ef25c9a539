"""`mmrag eval` end to end: reportlab PDFs ingested with the real MiniLM into a real Milvus Lite file."""

import json
import math

import pytest
from typer.testing import CliRunner

import mmrag
from mmrag.cli import app
from mmrag.evaluation import EvalError, EvalMode, IndexSearcher, evaluate
from mmrag.evaluation.queries import queries_from_dicts

runner = CliRunner()

HARBOUR = [
    "Annual report of the harbour authority.\nShips arrived from twelve countries this year.",
    "Container traffic grew by eight percent.\nThe new crane lifts forty tonnes in one move.",
    "Seagrass meadows near the pier recovered after dredging stopped.\nDivers counted seahorses again.",
]
BAKERY = ["Sourdough bread needs a starter fed with flour and water.", "Croissants are laminated with cold butter."]

QUERIES = [
    {"id": "crane", "query": "how heavy a load can the crane lift", "source": "harbour.pdf", "page": 2},
    {"id": "seahorse", "query": "divers saw seahorses in the seagrass", "source": "harbour.pdf", "page": 3},
    {"id": "butter", "query": "laminated pastry with butter", "source": "bakery.pdf", "group": "food"},
    # deliberately judged against the wrong page: a correct search cannot rank it first
    {"id": "wrong", "query": "sourdough starter flour water", "source": "bakery.pdf", "page": 2, "group": "food"},
]


@pytest.fixture
def store(tmp_path, pdf_factory, milvus_uri, text_embedder):
    pdf_factory("harbour.pdf", HARBOUR)
    pdf_factory("bakery.pdf", BAKERY)
    index = mmrag.Index(milvus_uri, collection="evals", embedder=text_embedder)
    assert index.ingest([tmp_path / "harbour.pdf", tmp_path / "bakery.pdf"]).ok
    index.close()
    queries = tmp_path / "queries.jsonl"
    queries.write_text("\n".join(json.dumps(q) for q in QUERIES) + "\n")
    return milvus_uri, queries


def test_eval_json_scores_every_mode(store):
    uri, queries = store
    result = runner.invoke(app, ["eval", "--queries", str(queries), "--store", uri, "--collection", "evals",
                                 "--modes", "dense,bm25,hybrid", "--k", "1,3", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["queries"] == 4 and data["k"] == [1, 3] and set(data["modes"]) == {"dense", "bm25", "hybrid"}
    ranks = {(r["mode"], r["id"]): r["first_relevant_rank"] for r in data["per_query"]}
    for mode in ("dense", "bm25", "hybrid"):
        assert [ranks[mode, q] for q in ("crane", "seahorse", "butter")] == [1, 1, 1], mode
        assert ranks[mode, "wrong"] != 1  # page 1 of bakery.pdf holds the sourdough, so page 2 ranks lower
        everything = data["modes"][mode]["all"]
        assert everything["queries"] == 4 and everything["recall@1"] == 0.75
        wrong = ranks[mode, "wrong"]  # BM25 may not return page 2 at all (no shared term)
        assert everything["mrr"] == pytest.approx((3 + (1 / wrong if wrong else 0)) / 4)
        assert everything["ndcg@10"] == pytest.approx((3 + (1 / math.log2(wrong + 1) if wrong else 0)) / 4)
        assert data["modes"][mode]["modality:text"]["queries"] == 4
        food = data["modes"][mode]["group:food"]
        assert food["queries"] == 2 and food["recall@1"] == 0.5
        latency = everything["latency_ms"]
        assert 0 < latency["p50"] <= latency["p95"]


def test_eval_prints_a_table_per_mode(store):
    uri, queries = store
    result = runner.invoke(app, ["eval", "--queries", str(queries), "--store", uri, "--collection", "evals", "--modes", "hybrid"])
    assert result.exit_code == 0, result.output
    assert "hybrid (4 queries)" in result.output and "dense" not in result.output
    for column in ("R@1", "R@5", "R@10", "MRR", "nDCG@10", "p50 ms", "modality:text", "group:food"):
        assert column in result.output
    assert "0.750" in result.output  # recall@1 over all four queries


def test_eval_errors_are_clear(store, tmp_path):
    uri, queries = store
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"query": "a", "source": "x.pdf"}\n{"query": "b", "source": "x.pdf", "page": -1}\n')
    result = runner.invoke(app, ["eval", "--queries", str(bad), "--store", uri, "--collection", "evals"])
    assert result.exit_code == 2 and f"{bad}:2: " in result.output and "'page' must be an integer >= 1" in result.output
    result = runner.invoke(app, ["eval", "--queries", str(queries), "--store", uri, "--collection", "evals", "--modes", "dense,fuzzy"])
    assert result.exit_code == 2 and "unknown mode 'fuzzy'" in result.output
    result = runner.invoke(app, ["eval", "--queries", str(queries), "--store", uri, "--collection", "evals", "--k", "0"])
    assert result.exit_code == 2 and "integers >= 1" in result.output
    result = runner.invoke(app, ["eval", "--queries", str(queries), "--store", uri, "--collection", "evals", "--modes", "hybrid+rerank"])
    assert result.exit_code == 2 and "needs a reranker" in result.output


def test_unavailable_query_kinds_are_refused_before_anything_runs(store, tmp_path, text_embedder):
    uri, _ = store
    (tmp_path / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    queries = queries_from_dicts([{"query": "crane", "source": "harbour.pdf"},
                                  {"image": "photo.png", "source": "harbour.pdf"}], base=tmp_path)
    searcher = IndexSearcher(mmrag.Index(uri, collection="evals", embedder=text_embedder))
    with pytest.raises(EvalError, match="line 2: an image query, but no embedding space here embeds images"):
        evaluate(queries, searcher, [EvalMode.DENSE])


def test_hybrid_rerank_runs_a_given_reranker_over_the_hybrid_hits(store, text_embedder):
    uri, _ = store
    seen = []

    def reverse(query, hits):  # a reranker that inverts the order, to see it take effect
        seen.append((query, len(hits)))
        return list(reversed(hits))

    index = mmrag.Index(uri, collection="evals", embedder=text_embedder)
    queries = queries_from_dicts([QUERIES[0]])
    plain = evaluate(queries, IndexSearcher(index), [EvalMode.HYBRID], warmup=False)
    reranked = evaluate(queries, IndexSearcher(index, reranker=reverse), [EvalMode.HYBRID_RERANK], warmup=False)
    assert plain.results[0].first_rank == 1
    assert seen == [(QUERIES[0]["query"], 5)]  # all five chunks of the store reach the reranker
    assert reranked.results[0].first_rank == 5


def test_hybrid_plus_rerank_runs_with_a_reranker(store):
    uri, queries = store
    result = runner.invoke(app, ["eval", "--queries", str(queries), "--store", uri, "--collection", "evals",
                                 "--modes", "hybrid,hybrid+rerank", "--rerank", "bi-encoder", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data["modes"]) == {"hybrid", "hybrid+rerank"}
    assert data["modes"]["hybrid+rerank"]["all"]["queries"] == 4
