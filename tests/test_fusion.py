import pytest

from mmrag.retrieval.fusion import min_max, rrf, weighted


def test_rrf_sums_reciprocal_ranks():
    fused = rrf([["a", "b", "c"], ["c", "a"]], k=60)
    assert fused["a"] == pytest.approx(1 / 61 + 1 / 62)
    assert fused["c"] == pytest.approx(1 / 63 + 1 / 61)
    assert max(fused, key=fused.get) == "a"


def test_weighted_normalises_each_list_and_missing_keys_score_zero():
    fused = weighted([{"a": 0.9, "b": 0.5}, {"b": 12.0, "c": 4.0}], [0.7, 0.3])
    assert fused == pytest.approx({"a": 0.7, "b": 0.3, "c": 0.0})


def test_min_max_of_equal_scores_is_one_and_bad_weights_raise():
    assert min_max({"a": 2.0, "b": 2.0}) == {"a": 1.0, "b": 1.0}
    with pytest.raises(ValueError, match="weights"):
        weighted([{"a": 1.0}], [0.5, 0.5])
    with pytest.raises(ValueError, match="positive sum"):
        weighted([{"a": 1.0}], [0.0])


def test_a_page_render_is_dropped_when_its_page_text_is_a_hit():
    from mmrag.retrieval.collapse import collapse_page_renders
    from mmrag.types import Chunk, Hit, ImageKind, ImageRef, Modality

    text = Chunk(id="t", doc_id="d", source="a.pdf", modality=Modality.TEXT, text="x", page=1)
    other = Chunk(id="t2", doc_id="d", source="a.pdf", modality=Modality.TEXT, text="y", page=2)
    render1 = Chunk(id="r1", doc_id="d", source="a.pdf", modality=Modality.PAGE_IMAGE, text="", page=1,
                    image=ImageRef("a.pdf", ImageKind.PAGE_RENDER, page=1), metadata={"text_ids": ["t"]})
    render3 = Chunk(id="r3", doc_id="d", source="a.pdf", modality=Modality.PAGE_IMAGE, text="", page=3,
                    image=ImageRef("a.pdf", ImageKind.PAGE_RENDER, page=3), metadata={"text_ids": ["t3"]})
    hits = [Hit(render1, 0.9), Hit(text, 0.8), Hit(render3, 0.7), Hit(other, 0.6)]
    assert [h.chunk.id for h in collapse_page_renders(hits)] == ["t", "r3", "t2"]
