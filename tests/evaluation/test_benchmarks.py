"""Each benchmark runs end to end at a tiny size (--quick), and the report renders
every result file present, including ones in another helper's shape. No timing is
asserted: only that the runs happen and say what they measured."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "benchmarks"
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def run(*args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=timeout)


def table(result: dict, title_start: str) -> dict:
    return next(t for t in result["tables"] if t["title"].startswith(title_start))


@pytest.mark.slow
def test_ingest_benchmark_runs_quick(tmp_path):
    done = run("benchmarks/ingest_throughput.py", "--quick", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads((tmp_path / "ingest_throughput.quick.json").read_text())
    assert result["quick"] is True and result["machine"]["cores"] >= 1
    main = {row[0]: row[1:] for row in table(result, "Mixed corpus")["rows"]}
    assert main["peak RSS MiB"][0] > 100 and main["peak RSS MiB"][1] > 100  # two real processes with torch loaded
    assert main["chunks / nodes stored"][0] > 0 and main["chunks / nodes stored"][1] > 0
    read = {row[0]: row[1:] for row in table(result, "What each path could read")["rows"]}
    assert read["text PDF pages"] == ["2 files / 4 units"] * 3  # both sides read every text page
    assert read["scanned PDF pages"][2] == "0 files / 0 units"  # the anchor has no OCR
    overlap = table(result, "mmrag: files read in a worker process")["rows"]
    assert [row[-1] for row in overlap] == [True, True]  # overlapped and serial runs store the same chunks
    for fig in result["figures"]:
        assert (tmp_path / fig).stat().st_size > 1000


@pytest.mark.slow
def test_retrieval_benchmark_runs_quick(tmp_path):
    done = run("benchmarks/retrieval_quality.py", "--quick", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads((tmp_path / "retrieval_quality.quick.json").read_text())
    jeopardy = table(result, "Jeopardy")["rows"]
    modes = {(r[0], r[1]) for r in jeopardy}
    assert {("mmrag", "dense"), ("mmrag", "bm25"), ("mmrag", "hybrid"), ("LlamaIndex", "dense"), ("LlamaIndex", "hybrid")} <= modes
    for row in jeopardy:
        if row[0] != "ratio":
            assert 0 <= row[2] <= row[3] <= row[4] <= 1  # recall@1 <= @5 <= @10
    mmrag_hybrid = next(r for r in jeopardy if r[:2] == ["mmrag", "hybrid"])
    assert mmrag_hybrid[4] > 0.3  # 30 questions over 30 short documents: most are found in the top 10
    mixed = {row[0]: row for row in table(result, "Mixed documents, hybrid")["rows"]}
    assert mixed["text PDF (page)"][1] == 2 and mixed["text PDF (page)"][4] > 0  # mmrag finds text-PDF pages
    assert mixed["transcript (moment)"][5] == 0  # the anchor keeps no times, so it never finds a moment


def test_report_renders_shared_and_foreign_result_files(tmp_path):
    results = tmp_path / "results"
    results.mkdir()
    (results / "ours.json").write_text(json.dumps({
        "benchmark": "ours", "title": "Ours", "date": "2026-01-01 00:00 UTC",
        "machine": {"cpu": "Test CPU", "cores": 2, "load_avg_at_start": [5.0, 1, 1]},
        "tables": [{"title": "T", "columns": ["a", "b"], "rows": [[1.5, "x|y"]]}, {"title": "Empty", "columns": ["c"], "rows": []}],
        "notes": ["a note"], "figures": ["missing.png"],
    }))
    (results / "embed_throughput.json").write_text(json.dumps({
        "model": "MiniLM", "speedup": 2.25, "runs": [{"batch": 8, "per_s": 100.0}, {"batch": 32, "per_s": 250.0}],
    }))
    (results / "ours.quick.json").write_text(json.dumps({"title": "Quick only"}))
    out = tmp_path / "RESULTS.md"
    done = run("benchmarks/report.py", "--results", str(results), "--out", str(out), timeout=60)
    assert done.returncode == 0, done.stderr
    text = out.read_text()
    assert "## Ours" in text and "| 1.5 | x\\|y |" in text and "- a note" in text and "(not run)" in text
    assert "shared, loaded machine" in text and "Test CPU, 2 cores" in text
    assert "missing.png" not in text  # a figure that is not there is not linked
    assert "| speedup | 2.25 |" in text and "| batch | per_s |" in text and "| 32 | 250 |" in text
    assert "Quick only" not in text  # --quick result files never land in RESULTS.md
    assert "Modality-gap calibration on real models: not measured" in text


def test_run_all_names_the_parts_when_none_matches():
    done = run("benchmarks/run_all.py", "--part", "no-such-part", timeout=60)
    assert done.returncode == 2
    assert "ingest_throughput" in done.stderr and "retrieval_quality" in done.stderr


def test_report_says_a_gap_simulation_is_not_a_real_model_measurement(tmp_path):
    results = tmp_path / "results"
    results.mkdir()
    (results / "embed_modality_gap.json").write_text(json.dumps(
        {"benchmark": "embed_modality_gap", "results": [{"gap": 0.5, "none": {"recall": 0.1}, "center": {"recall": 1.0}}]}))
    out = tmp_path / "RESULTS.md"
    assert run("benchmarks/report.py", "--results", str(results), "--out", str(out), timeout=60).returncode == 0
    text = out.read_text()
    assert "| gap | none.recall | center.recall |" in text and "| 0.5 | 0.1 | 1 |" in text
    assert "`embed_modality_gap` above is a simulation on synthetic vectors" in text


@pytest.mark.slow
def test_small_files_benchmark_runs_quick(tmp_path):
    done = run("benchmarks/ingest_small_files.py", "--quick", "--out", str(tmp_path), timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads((tmp_path / "ingest_small_files.quick.json").read_text())
    rows = {row[0]: row[1:] for row in table(result, "Many small files")["rows"]}
    assert set(rows) == {"batched", "file by file"} and rows["batched"][0] == rows["file by file"][0] == 30
    assert rows["file by file"][3] == 1.0 and rows["batched"][1] > 0  # the ratio's baseline, and a measured time
    assert len(result["raw"]["seconds"]["batched"]) == 1


@pytest.mark.slow
def test_formats_benchmark_runs_quick(tmp_path):
    done = run("benchmarks/formats_quality.py", "--quick", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads((tmp_path / "formats_quality.quick.json").read_text())
    recall = {tuple(row[:2]): row[2:] for row in table(result, "Known-item recall@5")["rows"]}
    assert {fmt for _, fmt in recall} == {"docx", "xlsx", "csv", "html", "epub"} and {m for m, _ in recall} == {"dense", "hybrid"}
    assert all(row[0] is not None and row[2] is not None for row in recall.values())  # both sides scored every format
    words = {row[0]: row[1:] for row in table(result, "Word recall")["rows"]}
    assert all(0 < row[0] <= 1 for row in words.values())
    cost = {row[0]: row[1:] for row in table(result, "Cost")["rows"]}
    assert cost["peak RSS MiB"][0] > 100 and cost["peak RSS MiB"][1] > 100


@pytest.mark.slow
def test_word_recall_benchmark_runs_quick(tmp_path):
    pytest.importorskip("llama_index.core", reason="LlamaIndex (the anchor) is in the bench extra")
    done = run("benchmarks/word_recall.py", "--quick", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads((tmp_path / "word_recall.quick.json").read_text())
    per_format = {row[0]: row[1:] for row in table(result, "Word recall per format")["rows"]}
    assert set(per_format) == {"docx", "xlsx", "csv", "html", "epub", "eml"}  # one third-party file of each
    assert per_format["docx"][1] == 1.0 and per_format["csv"][1] == 1.0  # mmrag holds every word LlamaIndex reads
    assert all(r["mmrag_words"] > 0 for r in result["raw"]["files"])
    pictures = {row[0]: row[1:] for row in table(result, "Words only in pictures")["rows"]}
    assert set(pictures) == {"docx", "html"}
    for fmt, (n, without, with_ocr, theirs) in pictures.items():  # the words are in pictures only: OCR finds them
        assert n == 6 and without == 0 and theirs == 0, fmt
        assert with_ocr is None or with_ocr == 1.0, fmt


@pytest.mark.slow
@pytest.mark.skipif(not Path("/usr/share/R/doc/manual/R-intro.pdf").exists(),
                    reason="Debian's r-doc-pdf is not installed (apt-get install -y r-doc-pdf gnuplot-doc)")
def test_real_pdf_benchmark_runs_quick(tmp_path):
    done = run("benchmarks/loaders_real_pdfs.py", "--quick", "--out", str(tmp_path), timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads((tmp_path / "loaders_real_pdfs.quick.json").read_text())
    layers = table(result, "Text layers")
    assert layers["rows"] and all(0 <= row[5] <= 1 for row in layers["rows"])
    ocr = table(result, "OCR of real scans")
    assert [row[0] for row in ocr["rows"]] == [2.0, 1.0] and all(0 <= row[3] <= 1 for row in ocr["rows"])


@pytest.mark.slow
@pytest.mark.skipif(not Path("/usr/share/R/doc/manual/R-intro.pdf").exists(),
                    reason="Debian's r-doc-pdf is not installed (apt-get install -y r-doc-pdf gnuplot-doc)")
def test_ocr_settings_benchmark_runs_quick(tmp_path):
    pytest.importorskip("rapidocr", reason="the 'ocr' extra")
    done = run("benchmarks/loaders_ocr.py", "--settings", "--quick", "--out", str(tmp_path), timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads((tmp_path / "loaders_ocr_settings.quick.json").read_text())
    rows = {row[0]: row[1:] for row in table(result, "OCR settings on real scans")["rows"]}
    assert list(rows) == ["baseline (before issue 17)", "today's defaults", "today's, one thread (the overlapped read worker)"]
    assert all(row[0] == 1 and row[1] > 0 and row[2] > 0 and 0.5 < row[3] <= 1 for row in rows.values())
