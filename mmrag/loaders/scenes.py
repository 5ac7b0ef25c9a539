"""Scene cuts by a frame-difference rule over small grey thumbnails.

Written here rather than taken from PySceneDetect: its detectors decode through
OpenCV (a second ffmpeg build, ~60 MB) while PyAV already decodes every frame,
and for lectures and screen recordings its default rule (mean change between
consecutive frames) is close to the one below. The share of pixels that changed
by more than ``pixel_delta`` grey levels is used instead of the mean change: a
new slide changes few pixels (its text) by a lot, compression noise changes many
pixels by a little. benchmarks/media_throughput.py measures the speed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from mmrag.errors import InvalidArgument


@dataclass(frozen=True)
class SceneOptions:
    """How a video is cut into scenes.

    A cut is a sampled frame whose ``threshold`` share of thumbnail pixels moved
    by more than ``pixel_delta`` grey levels from the previous sample. Scenes are
    at least ``min_scene`` seconds (a burst of fast cuts gives one scene, not a
    flood) and at most ``max_scene`` (a static lecture still gets a frame every
    ``max_scene`` seconds; identical ones are then merged by the loader). Frames
    are compared ``sample_fps`` times a second; a scene's keyframe is the first
    sample ``settle`` seconds after its cut (past a transition's blend).
    """

    threshold: float = 0.01
    pixel_delta: int = 24
    min_scene: float = 1.0
    max_scene: float = 120.0
    sample_fps: float = 30.0
    thumb_width: int = 160
    settle: float = 0.5

    def __post_init__(self) -> None:
        if not 0 < self.threshold < 1:
            raise InvalidArgument(f"threshold is a share of pixels in (0, 1), got {self.threshold}")
        if not 0 < self.pixel_delta < 256:
            raise InvalidArgument(f"pixel_delta is in grey levels 1..255, got {self.pixel_delta}")
        if self.min_scene < 0 or self.max_scene <= self.min_scene:
            raise InvalidArgument(f"need 0 <= min_scene < max_scene, got {self.min_scene} and {self.max_scene}")
        if self.sample_fps <= 0 or self.settle < 0 or self.thumb_width < 8:
            raise InvalidArgument("sample_fps must be > 0, settle >= 0 and thumb_width >= 8")


def changed_share(a: np.ndarray, b: np.ndarray, pixel_delta: int) -> float:
    """The share of pixels that differ by more than ``pixel_delta`` between two grey thumbnails."""
    return float(np.mean(np.abs(a.astype(np.int16) - b.astype(np.int16)) > pixel_delta))


@dataclass
class Scene:
    """A closed scene: its span and the keyframe chosen for it."""

    start: float
    end: float
    key_time: float
    thumb: np.ndarray
    image: Any  # what the caller's ``grab`` returned for the keyframe (a PIL image)


class SceneCutter:
    """Streaming cutter: ``feed`` sampled thumbnails in time order, get scenes as they close.

    Example::

        cutter = SceneCutter(SceneOptions())
        for t, thumb in samples:
            for scene in cutter.feed(t, thumb, lambda: frame.to_image()):
                ...
        scenes_left = list(cutter.finish(duration))
    """

    def __init__(self, options: SceneOptions) -> None:
        self.options = options
        self._start: float | None = None
        self._previous: np.ndarray | None = None
        self._key: tuple[float, np.ndarray, Any] | None = None
        self._settled = False

    def feed(self, t: float, thumb: np.ndarray, grab: Callable[[], Any]) -> Iterator[Scene]:
        o = self.options
        if self._start is None:
            self._open(t, thumb, grab)
            return
        assert self._previous is not None
        length = t - self._start + 1e-6  # frame times are floats: 2.3 - 2.0 < 0.3
        cut = length >= o.min_scene and changed_share(self._previous, thumb, o.pixel_delta) > o.threshold
        if cut or length >= o.max_scene:
            yield self._close(t)
            self._open(t, thumb, grab)
            return
        if not self._settled and length >= o.settle:
            self._key, self._settled = (t, thumb, grab()), True
        self._previous = thumb

    def finish(self, end: float) -> Iterator[Scene]:
        """The last scene, ending at ``end`` (the video's last frame time or duration)."""
        if self._start is not None:
            yield self._close(max(end, self._start))
            self._start = None

    def _open(self, t: float, thumb: np.ndarray, grab: Callable[[], Any]) -> None:
        self._start, self._previous = t, thumb
        self._key, self._settled = (t, thumb, grab()), self.options.settle == 0

    def _close(self, end: float) -> Scene:
        assert self._start is not None and self._key is not None
        key_time, thumb, image = self._key
        return Scene(self._start, end, key_time, thumb, image)
