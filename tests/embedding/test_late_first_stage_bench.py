"""The late first-stage benchmark runs end to end at --quick size and writes its JSON."""

import json

import pytest

from benchmarks.late_first_stage import main

pytest.importorskip("pymilvus")


@pytest.mark.slow
def test_quick_late_first_stage_benchmark_writes_every_figure(tmp_path):
    out = tmp_path / "lfs.json"
    main(["--quick", "--out", str(out)])
    (run,) = json.loads(out.read_text())["runs"]
    muvera, pooled = run["first_stage"]["muvera"], run["first_stage"]["mean_pooled"]
    assert muvera["vector_dim"] == 2048 and pooled["vector_dim"] == 128
    assert muvera["recall_at_10_vs_exhaustive"] >= 0.9 and muvera["lite_candidate_recall_top10_in_100"] >= 0.9
    assert muvera["late_p50_ms_without_token_read"] > 0 and muvera["lite_ann_p50_ms"] > 0


@pytest.mark.slow
def test_quick_store_run_compares_muvera_with_the_packed_path(tmp_path):
    out = tmp_path / "store.json"
    main(["--quick", "--store", "--out", str(out)])
    run = json.loads(out.read_text())["run"]
    assert set(run["sides"]) == {"muvera", "packed_mean_pooled"}
    for side in run["sides"].values():
        assert side["late_p50_ms"] > 0 and side["tokens_per_row"] == 32
        assert 0.0 <= side["recall_at_10_vs_exhaustive"] <= 1.0
    assert run["sides"]["muvera"]["recall_at_10_vs_exhaustive"] >= 0.9 and run["p50_ratio_muvera_vs_packed"] > 0
