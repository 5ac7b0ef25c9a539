"""Metrics and matching against hand-computed values."""

import math

import pytest

from mmrag.evaluation import Relevant, hit_matches, judge, latency_summary, ndcg_at_k, recall_at_k, reciprocal_rank, source_matches

# ranks 2 and 4 find relevant items; the query has 3 relevant items
FOUND = [False, True, False, True]


def test_recall_at_k():
    assert recall_at_k(FOUND, 3, 1) == 0.0
    assert recall_at_k(FOUND, 3, 2) == pytest.approx(1 / 3)
    assert recall_at_k(FOUND, 3, 5) == pytest.approx(2 / 3)
    assert recall_at_k([True], 1, 10) == 1.0


def test_reciprocal_rank():
    assert reciprocal_rank(FOUND) == 0.5
    assert reciprocal_rank([False, False, True]) == pytest.approx(1 / 3)
    assert reciprocal_rank([False, False]) == 0.0
    assert reciprocal_rank([]) == 0.0


def test_ndcg_at_k():
    # DCG = 1/log2(3) + 1/log2(5) = 1.06161; ideal with 3 relevant = 1 + 1/log2(3) + 1/2 = 2.13093
    assert ndcg_at_k(FOUND, 3) == pytest.approx(0.49818925746641285)
    # one relevant item found first: perfect
    assert ndcg_at_k([True, False], 1) == 1.0
    # two relevant, only the first found: 1 / (1 + 1/log2(3))
    assert ndcg_at_k([True, False, False], 2) == pytest.approx(0.6131471927654584)
    # a hit below the cut-off counts for nothing
    assert ndcg_at_k([False, False, True], 1, k=2) == 0.0
    assert ndcg_at_k([False, True], 1, k=2) == pytest.approx(1 / math.log2(3))


def test_metrics_refuse_impossible_inputs():
    with pytest.raises(ValueError, match="at least one relevant"):
        recall_at_k([True], 0, 1)
    with pytest.raises(ValueError, match="k must be >= 1"):
        ndcg_at_k([True], 1, k=0)
    with pytest.raises(ValueError, match="no latencies"):
        latency_summary([])


def test_latency_summary_in_milliseconds():
    assert latency_summary([0.004, 0.001, 0.003, 0.002]) == pytest.approx({"mean": 2.5, "p50": 2.5, "p95": 3.85})
    assert latency_summary([0.010]) == pytest.approx({"mean": 10.0, "p50": 10.0, "p95": 10.0})


def test_source_matches_whole_trailing_path_parts():
    assert source_matches("report.pdf", "/data/docs/report.pdf")
    assert source_matches("docs/report.pdf", "/data/docs/report.pdf")
    assert source_matches("./report.pdf", "report.pdf")
    assert source_matches("/data/docs/report.pdf", "/data/docs/report.pdf")
    assert not source_matches("port.pdf", "/data/docs/report.pdf")
    assert not source_matches("other/report.pdf", "/data/docs/report.pdf")
    assert not source_matches("/elsewhere/report.pdf", "/data/docs/report.pdf")


def hit(source="a.pdf", page=None, slide=None, start=None, end=None):
    return {"source": source, "page": page, "slide": slide, "start": start, "end": end}


def test_hit_matches_at_the_level_given():
    assert hit_matches(Relevant("a.pdf"), hit(page=7))
    assert hit_matches(Relevant("a.pdf", page=2), hit(page=2))
    assert not hit_matches(Relevant("a.pdf", page=2), hit(page=3))
    assert not hit_matches(Relevant("a.pdf", page=2), hit("b.pdf", page=2))
    assert hit_matches(Relevant("deck.pptx", slide=4), hit("deck.pptx", slide=4))
    assert not hit_matches(Relevant("deck.pptx", slide=4), hit("deck.pptx", page=4))
    talk = Relevant("talk.vtt", t=65.0)
    assert hit_matches(talk, hit("talk.vtt", start=60.0, end=70.0))
    assert hit_matches(talk, hit("talk.vtt", start=65.0, end=65.0))  # inclusive ends
    assert not hit_matches(talk, hit("talk.vtt", start=70.0, end=80.0))
    assert not hit_matches(talk, hit("talk.vtt"))  # a transcript read without times cannot match a moment


def test_judge_counts_each_relevant_item_once():
    relevant = [Relevant("a.pdf", page=1), Relevant("b.pdf")]
    hits = [hit(page=1), hit(page=1), hit("c.pdf"), hit("b.pdf", page=9), hit("b.pdf", page=2)]
    assert judge(hits, relevant) == [True, False, False, True, False]
    assert recall_at_k(judge(hits, relevant), 2, 2) == 0.5


def test_hit_matches_sheets_rows_and_headings():
    row = {"source": "/data/budget.xlsx", "sheet": "Q3", "row_start": 12, "row_end": 20}
    assert hit_matches(Relevant("budget.xlsx", sheet="Q3", row=17), row)
    assert hit_matches(Relevant("budget.xlsx", sheet="Q3", row=20), row)  # inclusive ends
    assert not hit_matches(Relevant("budget.xlsx", sheet="Q4", row=17), row)
    assert not hit_matches(Relevant("budget.xlsx", sheet="Q3", row=21), row)
    assert hit_matches(Relevant("budget.xlsx", sheet="Q3"), row)
    assert hit_matches(Relevant("budget.xlsx", row=12), row)
    assert not hit_matches(Relevant("budget.xlsx", row=12), {"source": "budget.xlsx"})  # no rows: no match
    docx = {"source": "plan.docx", "heading": "Plan > Costs > Q3 overruns"}
    assert hit_matches(Relevant("plan.docx", heading="Costs"), docx)
    assert hit_matches(Relevant("plan.docx", heading="plan >  costs"), docx)
    assert not hit_matches(Relevant("plan.docx", heading="Cost"), docx)
    assert not hit_matches(Relevant("plan.docx", heading="Plan > Q3 overruns"), docx)  # parts must be consecutive
    assert not hit_matches(Relevant("plan.docx", heading="Costs"), {"source": "plan.docx", "heading": None})
