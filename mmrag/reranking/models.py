"""One loaded model per (kind, model, device) per process.

Rerankers are cheap to construct and may be built per request (the CLI does);
loading weights is not. This cache is hand-written because it is a dozen lines
and needs no eviction: a process uses a handful of models.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from mmrag.embedding.base import quiet_loading

T = TypeVar("T")

_MODELS: dict[tuple[str, str, str], Any] = {}
_LOCK = threading.Lock()


def default_device() -> str:
    """``cuda`` when a GPU is visible, else ``mps`` on Apple silicon, else ``cpu``."""
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def shared(kind: str, model: str, device: str, load: Callable[[], T]) -> T:
    """The cached model for this key, loading it with ``load()`` the first time only."""
    key = (kind, model, device)
    with _LOCK:
        if key not in _MODELS:
            with quiet_loading():
                _MODELS[key] = load()
        return _MODELS[key]


def loaded_keys() -> list[tuple[str, str, str]]:
    """Which models are loaded (kind, model, device): for diagnostics and tests."""
    with _LOCK:
        return list(_MODELS)
