import json

import pytest

from benchmarks.embed_throughput import main

pytestmark = pytest.mark.slow  # builds a tiny CLIP, loads MiniLM, runs every method once


def test_quick_throughput_benchmark_writes_its_report_and_vectors_match_the_loop(tmp_path):
    out = tmp_path / "embed_throughput.json"
    main(["--quick", "--out", str(out)])
    report = json.loads(out.read_text())
    image, text = report["image"], report["text"]
    assert set(image["images_per_s"]) == {"ours", "loop", "naive_batch", "bound"}
    assert image["images"] == 8 and all(v > 0 for v in image["images_per_s"].values())
    assert image["cosine_ours_vs_loop_min"] >= 0.999
    assert set(text["texts_per_s"]) == {"ours", "bare_encode", "one_per_call"}
    assert text["cosine_ours_vs_bare_min"] >= 0.9999
