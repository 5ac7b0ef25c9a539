import numpy as np
import pytest

from benchmarks.modality_gap import run, simulate
from mmrag.embedding.calibration import ModalityCalibration
from mmrag.embedding.spaces import EmbeddingSpaces
from mmrag.types import Chunk, ImageKind, ImageRef, Modality


def test_centring_removes_each_modalitys_mean_and_round_trips_through_json():
    texts, images, _ = simulate(concepts=50, dim=16, gap=1.0, noise=1.0, seed=0)
    pool = np.concatenate([texts, images])
    mods = [Modality.TEXT] * 50 + [Modality.PAGE_IMAGE] * 25 + [Modality.IMAGE] * 25
    cal = ModalityCalibration.fit(pool, mods)
    np.testing.assert_allclose(cal.means["text"], texts.mean(axis=0), atol=1e-6)
    np.testing.assert_allclose(cal.means["image"], images.mean(axis=0), atol=1e-6)
    centred = cal.center(pool, mods)
    np.testing.assert_allclose(np.linalg.norm(centred, axis=1), 1.0, atol=1e-5)
    # the cones overlap after centring: the gap between modality means shrinks a lot
    before = np.linalg.norm(texts.mean(axis=0) - images.mean(axis=0))
    after = np.linalg.norm(centred[:50].mean(axis=0) - centred[50:].mean(axis=0))
    assert after < 0.5 * before
    again = ModalityCalibration.from_json(cal.to_json())
    np.testing.assert_allclose(again.center(pool, mods), centred, atol=1e-6)
    assert again.score_stats == cal.score_stats  # floats round-trip exactly through JSON
    z = cal.calibrate_scores([0.5, 0.5], [Modality.TEXT, Modality.IMAGE])
    assert z[0] == pytest.approx((0.5 - cal.score_stats["text"][0]) / cal.score_stats["text"][1])


def test_fitting_needs_both_modalities():
    with pytest.raises(ValueError, match="both text and image"):
        ModalityCalibration.fit(np.eye(3, dtype=np.float32), [Modality.TEXT] * 3)


def test_with_a_planted_gap_centring_lets_images_into_a_mixed_top_10():
    result = run(concepts=200, dim=64, gap=1.0, noise=1.0)
    assert result["none"]["image_share_top10"] < 0.05  # the gap: text first, always
    assert result["center"]["image_recall_at_10"] > result["none"]["image_recall_at_10"] + 0.5
    assert 0.4 < result["center"]["image_share_top10"] < 0.6
    no_gap = run(concepts=200, dim=64, gap=0.0, noise=1.0)
    assert no_gap["center"]["both_recall_at_10"] >= no_gap["none"]["both_recall_at_10"] - 0.01  # harmless without a gap


def test_spaces_apply_a_calibration_to_chunks_and_queries(clip_path, jpegs):
    from mmrag.embedding.clip import ImageTextEmbedder

    clip = ImageTextEmbedder(clip_path)
    chunks = [
        Chunk(id="t", doc_id="d", source="a.md", modality=Modality.TEXT, text="solar roof"),
        Chunk(id="i", doc_id="d", source=str(jpegs[0]), modality=Modality.IMAGE, text="", image=ImageRef(str(jpegs[0]), ImageKind.FILE)),
    ]
    plain = EmbeddingSpaces({"clip": clip}, image_loader=lambda ref: ref.source)
    raw = plain.embed_chunks(chunks)["clip"]
    cal = ModalityCalibration(means={"text": raw[0] * 0.5, "image": raw[1] * 0.5}, score_stats={"text": (0, 1), "image": (0, 1)})
    spaces = EmbeddingSpaces({"clip": clip}, image_loader=lambda ref: ref.source, calibrations={"clip": cal})
    np.testing.assert_allclose(spaces.embed_chunks(chunks)["clip"], cal.center(raw, [Modality.TEXT, Modality.IMAGE]), atol=1e-5)
    q = plain.embed_query("solar")["clip"]
    np.testing.assert_allclose(spaces.embed_query("solar")["clip"], cal.center(q[None], [Modality.TEXT])[0], atol=1e-5)
    with pytest.raises(ValueError, match="pooled space"):
        EmbeddingSpaces({"clip": clip}, calibrations={"other": cal})
