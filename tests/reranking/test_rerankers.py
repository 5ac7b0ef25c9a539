"""Rerankers on tiny real models: order follows scores, batching does not change
scores, inputs are never mutated, mixed text/image lists rank together."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mmrag.embedding.maxsim import maxsim
from mmrag.reranking import (
    BiEncoderReranker,
    Calibration,
    CrossEncoderReranker,
    MaxSimReranker,
    MultimodalReranker,
    calibrate,
    reranked,
    reranker_from_spec,
)
from mmrag.reranking.models import loaded_keys
from mmrag.types import Hit, Modality

from .conftest import image_hit, text_hit

QUERY = "solar power in winter"


def _check_reranked(before: list[Hit], after: list[Hit], scores: np.ndarray) -> None:
    """Order equals the order of the scores; both scores are on every hit; input untouched."""
    by_id = {h.chunk.id: float(s) for h, s in zip(before, scores)}
    assert [h.chunk.id for h in after] == sorted(by_id, key=lambda i: -by_id[i])[: len(after)]
    for hit in after:
        assert hit.scores["rerank"] == pytest.approx(by_id[hit.chunk.id], rel=1e-5, abs=1e-6)
        original = next(h for h in before if h.chunk.id == hit.chunk.id)
        assert hit.scores["first_stage"] == original.score
        assert hit.score == hit.scores["rerank"]
        assert "first_stage" not in original.scores and "rerank" not in original.scores


def test_cross_encoder_orders_by_its_scores(tiny_cross_encoder: str, text_hits: list[Hit]) -> None:
    rr = CrossEncoderReranker(tiny_cross_encoder, device="cpu", batch_size=3)
    scores = rr.score(QUERY, text_hits)
    assert scores.shape == (len(text_hits),) and scores.dtype == np.float32
    assert np.all((scores > 0) & (scores < 1)), "documented range: sigmoid probabilities in (0, 1)"
    assert len(set(np.round(scores, 6))) > 1, "a random model still separates different texts"
    out = rr.rerank(QUERY, text_hits, k=4)
    assert len(out) == 4
    _check_reranked(text_hits, out, scores)


def test_cross_encoder_batching_and_truncation(tiny_cross_encoder: str, text_hits: list[Hit]) -> None:
    one = CrossEncoderReranker(tiny_cross_encoder, device="cpu", batch_size=1).score(QUERY, text_hits)
    many = CrossEncoderReranker(tiny_cross_encoder, device="cpu", batch_size=64).score(QUERY, text_hits)
    np.testing.assert_allclose(one, many, rtol=1e-5, atol=1e-6)
    # A candidate far longer than max_length is truncated, not an error.
    long_hit = text_hit(99, "solar " * 5000, 0.1)
    short = CrossEncoderReranker(tiny_cross_encoder, device="cpu", max_length=32)
    assert np.isfinite(short.score(QUERY, [long_hit])).all()


def test_models_load_once_per_process(tiny_cross_encoder: str, text_hits: list[Hit]) -> None:
    a = CrossEncoderReranker(tiny_cross_encoder, device="cpu", batch_size=2)
    b = CrossEncoderReranker(tiny_cross_encoder, device="cpu", batch_size=8)
    assert a.model is b.model
    # One load per (model, max_length, device): max_length is part of how the model was loaded.
    assert loaded_keys().count(("cross-encoder", f"{tiny_cross_encoder}|512", "cpu")) == 1


def test_empty_and_single_candidate(tiny_cross_encoder: str, tiny_late_interaction, text_embedder, text_hits) -> None:
    rerankers = [
        CrossEncoderReranker(tiny_cross_encoder, device="cpu"),
        MaxSimReranker(tiny_late_interaction),
        BiEncoderReranker(embedder=text_embedder),
    ]
    for rr in rerankers:
        assert rr.rerank(QUERY, []) == []
        (only,) = rr.rerank(QUERY, text_hits[:1], k=5)
        assert only.chunk == text_hits[0].chunk
        assert set(only.scores) >= {"first_stage", "rerank", "rrf"}


def test_maxsim_reranker_matches_brute_force(tiny_late_interaction, text_hits: list[Hit]) -> None:
    rr = MaxSimReranker(tiny_late_interaction)
    out = rr.rerank(QUERY, text_hits)
    q = tiny_late_interaction.embed_queries([QUERY])[0]
    docs = tiny_late_interaction.embed_documents([h.chunk.embed_text for h in text_hits])
    brute = np.array([sum(max(float(qt @ dt) for dt in d) for qt in q) for d in docs])
    np.testing.assert_allclose(rr.score(QUERY, text_hits), brute, rtol=1e-4)
    np.testing.assert_allclose(maxsim(q, docs), brute, rtol=1e-4)
    _check_reranked(text_hits, out, brute)


def test_maxsim_uses_stored_vectors_without_reembedding(tiny_late_interaction, text_hits: list[Hit]) -> None:
    stored = dict(zip([h.chunk.id for h in text_hits], tiny_late_interaction.embed_documents([h.chunk.embed_text for h in text_hits])))
    # Make one stored vector set clearly the best: the query's own tokens.
    q = tiny_late_interaction.embed_queries([QUERY])[0]
    stored[text_hits[-1].chunk.id] = q.copy()
    asked: list[list[str]] = []

    def lookup(ids):
        asked.append(list(ids))
        return {i: stored[i] for i in ids}

    rr = MaxSimReranker(tiny_late_interaction, vectors=lookup)
    before = tiny_late_interaction.calls
    out = rr.rerank(QUERY, text_hits, k=3)
    assert tiny_late_interaction.calls == before + 1, "only the query is embedded"
    assert asked == [[h.chunk.id for h in text_hits]]
    assert out[0].chunk.id == text_hits[-1].chunk.id
    assert out[0].scores["rerank"] == pytest.approx(float(len(q)), rel=1e-4)  # every token matches itself: cos 1


def test_bi_encoder_prefers_the_paraphrase(text_embedder) -> None:
    hits = [
        text_hit(0, "Quarterly tax filing deadlines for small firms", 0.9),
        text_hit(1, "How photovoltaic modules generate less electricity when days are short", 0.2),
        text_hit(2, "Recipes for a quick weeknight pasta", 0.5),
    ]
    rr = BiEncoderReranker(embedder=text_embedder)
    out = rr.rerank("why do solar panels produce less power in winter", hits)
    assert out[0].chunk.id == "t1"
    assert -1.0 <= out[-1].scores["rerank"] <= out[0].scores["rerank"] <= 1.0
    _check_reranked(hits, out, rr.score("why do solar panels produce less power in winter", hits))


def test_bi_encoder_batching_equivalence(text_embedder, text_hits: list[Hit]) -> None:
    from mmrag.embedding.sentence_transformer import SentenceTransformerEmbedder

    small = SentenceTransformerEmbedder(batch_size=2)
    small._model = text_embedder.model  # same weights, smaller batches
    np.testing.assert_allclose(
        BiEncoderReranker(embedder=small).score(QUERY, text_hits),
        BiEncoderReranker(embedder=text_embedder).score(QUERY, text_hits),
        atol=1e-5,
    )


def test_mixed_text_and_image_list_reorders(tiny_clip, png_files: list[Path], text_hits: list[Hit]) -> None:
    mixed = [text_hits[0], image_hit(0, png_files[0], 0.8), text_hits[1], image_hit(1, png_files[1], 0.6, Modality.PAGE_IMAGE),
             text_hits[2], image_hit(2, png_files[2], 0.4)]
    rr = MultimodalReranker(tiny_clip)
    out = rr.rerank("a red chart", mixed)
    assert sorted(h.chunk.id for h in out) == sorted(h.chunk.id for h in mixed)
    assert {h.chunk.modality for h in out} == {Modality.TEXT, Modality.IMAGE, Modality.PAGE_IMAGE}
    raw = rr.raw_scores("a red chart", mixed)
    groups = ["text" if h.chunk.modality is Modality.TEXT else "image" for h in mixed]
    expected = calibrate(raw, groups)
    _check_reranked(mixed, out, expected)
    # Calibrated: each modality's scores are centred, so neither modality wins by scale alone.
    for g in ("text", "image"):
        part = expected[[i for i, x in enumerate(groups) if x == g]]
        assert abs(float(part.mean())) < 1e-5 and float(part.std()) == pytest.approx(1.0, rel=1e-4)
    # Batching (2 per batch in the fixture) gives the same cosines as one image at a time.
    singles = np.concatenate([rr.raw_scores("a red chart", [h]) for h in mixed])
    np.testing.assert_allclose(raw, singles, atol=1e-5)


def test_text_rerankers_accept_image_candidates(tiny_cross_encoder: str, png_files: list[Path], text_hits: list[Hit]) -> None:
    mixed = [*text_hits[:3], image_hit(0, png_files[0], 0.5)]
    out = CrossEncoderReranker(tiny_cross_encoder, device="cpu").rerank(QUERY, mixed)
    assert len(out) == 4 and any(h.chunk.modality is Modality.IMAGE for h in out)


def page_hit(i: int, pdf: Path, page: int, score: float) -> Hit:
    from mmrag.types import Chunk, ImageKind, ImageRef

    chunk = Chunk(id=f"p{i}", doc_id="pdf", source=str(pdf), modality=Modality.PAGE_IMAGE, text="", page=page,
                  image=ImageRef(str(pdf), ImageKind.PAGE_RENDER, page=page))
    return Hit(chunk, score, {"dense": score})


def test_rerankers_open_pdf_page_renders_as_embedders_do(tiny_clip, pdf_factory, text_hits: list[Hit]) -> None:
    """A page-render hit is scored by the page's pixels, resolved by the same resolver
    the embedders use: the reranker's cosine is exactly the embedder's for that ImageRef."""
    dense = "\n".join(["Solar output by month, kWh per panel, winter and summer " * 2] * 50)
    pdf = pdf_factory("report.pdf", [dense, "Wind"])  # a full page and a nearly blank one
    pages = [page_hit(1, pdf, 1, 0.4), page_hit(2, pdf, 2, 0.3)]
    rr = MultimodalReranker(tiny_clip)
    raw = rr.raw_scores(QUERY, [text_hits[0], *pages])
    q = tiny_clip.embed_queries([QUERY])[0]
    direct = tiny_clip.embed_images([h.chunk.image for h in pages])
    want = (direct / np.linalg.norm(direct, axis=1, keepdims=True)) @ (q / np.linalg.norm(q))
    np.testing.assert_allclose(raw[1:], want, atol=1e-5)
    assert raw[1] != pytest.approx(raw[2])  # two different renders
    out = rr.rerank(QUERY, [text_hits[0], *pages])
    assert {h.chunk.id for h in out} == {"t0", "p1", "p2"}


def test_missing_page_render_is_the_resolvers_error_naming_it(tiny_clip, tmp_path: Path, text_hits: list[Hit]) -> None:
    from mmrag.errors import LoaderError

    gone = page_hit(1, tmp_path / "gone.pdf", 3, 0.3)
    with pytest.raises(LoaderError, match="gone.pdf: no such file"):
        MultimodalReranker(tiny_clip).rerank(QUERY, [text_hits[0], gone])


def test_reranked_blend_and_validation(text_hits: list[Hit]) -> None:
    scores = np.linspace(0.0, 1.0, len(text_hits))  # reverses the first-stage order
    assert [h.chunk.id for h in reranked(text_hits, scores, blend=0.0)] == [h.chunk.id for h in text_hits]
    assert [h.chunk.id for h in reranked(text_hits, scores, blend=1.0)] == [h.chunk.id for h in reversed(text_hits)]
    mid = reranked(text_hits, scores, k=3, blend=0.5)
    assert len(mid) == 3 and all("blend" in h.scores and h.score == h.scores["blend"] for h in mid)
    with pytest.raises(ValueError, match="blend must be in"):
        reranked(text_hits, scores, blend=1.5)
    with pytest.raises(ValueError, match="7 hits"):
        reranked(text_hits, scores[:3])


def test_calibration_methods() -> None:
    scores = np.array([0.9, 0.8, 0.2, 0.25, 0.3])
    groups = ["text", "text", "image", "image", "image"]
    mm = calibrate(scores, groups, "minmax")
    np.testing.assert_allclose(mm, [1.0, 0.0, 0.0, 0.5, 1.0], atol=1e-6)
    np.testing.assert_allclose(calibrate(scores, groups, Calibration.NONE), scores, atol=1e-6)
    assert calibrate(np.array([0.4]), ["image"]).tolist() == [0.0]
    # MaxSim gives an empty document -inf: it stays last and does not poison its group's statistics.
    with_empty = calibrate(np.array([2.0, -np.inf, 1.0]), ["text"] * 3)
    assert with_empty[1] == -np.inf and with_empty[0] == pytest.approx(1.0) and with_empty[2] == pytest.approx(-1.0)
    with pytest.raises(ValueError, match="valid: zscore, minmax, none"):
        calibrate(scores, groups, "sigmoid")


def test_spec_parsing(tiny_cross_encoder: str, text_embedder) -> None:
    assert isinstance(reranker_from_spec(f"cross-encoder:{tiny_cross_encoder}"), CrossEncoderReranker)
    bi = reranker_from_spec("bi-encoder", text_embedder=text_embedder)
    assert isinstance(bi, BiEncoderReranker) and bi.embedder is text_embedder
    with pytest.raises(ValueError, match="valid: bi-encoder, cross-encoder"):
        reranker_from_spec("colbert")
    with pytest.raises(ValueError, match="cross-encoder needs a model"):
        reranker_from_spec("cross-encoder")
