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
def test_quick_store_run_compares_the_sidecar_with_token_rows(tmp_path):
    out = tmp_path / "store.json"
    main(["--quick", "--store", "--out", str(out)])
    run = json.loads(out.read_text())["run"]
    assert set(run["sides"]) == {"sidecar", "lite_rows"}
    for name, side in run["sides"].items():
        assert side["late_p50_ms"] > 0 and side["load_seconds"] > 0 and side["disk_bytes_per_page"] > 0
        assert side["recall_at_10_vs_exhaustive"] >= 0.9
    assert run["sides"]["sidecar"]["token_store"] == "sidecar" and run["sides"]["lite_rows"]["token_store"] == "rows"
    # float16 tokens: at least 2 bytes a value in the sidecar, none in the token-rows store
    assert run["sides"]["sidecar"]["sidecar_bytes_per_page"] >= 64 * 128 * 2
    assert run["sides"]["lite_rows"]["sidecar_bytes_per_page"] == 0
    assert run["p50_ratio_sidecar_vs_lite_rows"] > 0 and run["load_ratio_sidecar_vs_lite_rows"] > 0
    with pytest.raises(SystemExit, match="--sides takes names of"):
        main(["--quick", "--store", "--sides", "disk", "--out", str(out)])
