"""The Milvus Lite query profile benchmark runs end to end at --quick size and writes its JSON."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("pymilvus")

from benchmarks.lite_query_profile import main  # noqa: E402


@pytest.mark.slow
def test_quick_lite_profile_writes_latencies_and_profile(tmp_path):
    out = tmp_path / "lqp.json"
    main(["--quick", "--out", str(out)])
    result = json.loads(out.read_text())
    assert result["rows"] == 2000 and result["queries_per_mode"] > 0
    assert set(result["p50_ms"]) == {"hybrid_rrf", "dense", "bm25"} and all(v > 0 for v in result["p50_ms"].values())
    profile = result["profile"]
    if profile != "py-spy not installed":
        assert profile["search_samples"] > 0 and "Collection.search" in profile["inclusive_by_function"]
