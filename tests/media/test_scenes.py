"""The scene rule on synthetic thumbnails: cuts, minimum and maximum scene length."""

from __future__ import annotations

import numpy as np
import pytest

from mmrag.loaders.scenes import SceneCutter, SceneOptions, changed_share


def run(frames: list[np.ndarray], options: SceneOptions, fps: float = 10.0):
    cutter = SceneCutter(options)
    scenes = []
    for n, thumb in enumerate(frames):
        scenes += list(cutter.feed(n / fps, thumb, lambda n=n: n))
    return scenes + list(cutter.finish(len(frames) / fps))


def flat(value: int) -> np.ndarray:
    return np.full((9, 16), value, np.uint8)


def test_hard_cuts_give_one_scene_each_with_exact_boundaries() -> None:
    frames = [flat(0)] * 20 + [flat(200)] * 30 + [flat(90)] * 10
    scenes = run(frames, SceneOptions(min_scene=0.5, settle=0.3))
    assert [(s.start, s.end) for s in scenes] == [(0.0, 2.0), (2.0, 5.0), (5.0, 6.0)]
    assert [s.image for s in scenes] == [3, 23, 53]  # the keyframe: 0.3 s after each cut


def test_fast_cuts_inside_min_scene_do_not_flood() -> None:
    frames = [flat(v) for v in ([0, 250] * 10)] + [flat(0)] * 10  # 19 cuts in 2 s, then a still second
    scenes = run(frames, SceneOptions(min_scene=1.0))
    assert [(s.start, s.end) for s in scenes] == [(0.0, 1.0), (1.0, 2.0), (2.0, 3.0)]


def test_a_static_shot_still_gets_a_frame_every_max_scene_seconds() -> None:
    scenes = run([flat(40)] * 100, SceneOptions(min_scene=1.0, max_scene=3.0))
    assert [round(s.start, 1) for s in scenes] == [0.0, 3.0, 6.0, 9.0]


def test_changed_share_counts_only_strong_changes() -> None:
    a, b = flat(100), flat(100)
    b[0, :8] = 200  # 8 of 144 pixels changed a lot
    noisy = (flat(100) + 5).astype(np.uint8)
    assert changed_share(a, b, 24) == pytest.approx(8 / 144)
    assert changed_share(a, noisy, 24) == 0.0


@pytest.mark.parametrize("bad", [dict(threshold=0), dict(min_scene=5, max_scene=2), dict(sample_fps=0)])
def test_bad_options_are_refused(bad) -> None:
    with pytest.raises(ValueError):
        SceneOptions(**bad)
