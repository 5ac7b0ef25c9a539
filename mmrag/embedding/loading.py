"""A model that fails to load, said in words: ``--model ./missing``, a hub id
that is not in the cache while offline, or a folder that holds no model, each
reads as one sentence naming the model and what to do, not as transformers' or
huggingface_hub's traceback."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mmrag.errors import MmragError, ModelLoadError


def _looks_like_path(name: str) -> bool:
    return name.startswith(("/", "./", "../", "~")) or name.endswith(os.sep) or Path(name).expanduser().exists()


def explain(name: str, exc: BaseException) -> ModelLoadError:
    """The sentence for model ``name`` that failed to load with ``exc``."""
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if _looks_like_path(name):
        folder = Path(name).expanduser()
        if not folder.exists():
            return ModelLoadError(name, "no such model folder")
        return ModelLoadError(name, f"the folder holds no model this kind of embedder can load ({detail})")
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on"):
        return ModelLoadError(
            name,
            "not a local folder, and not in the Hugging Face cache (HF_HUB_OFFLINE is set, so nothing is downloaded): "
            "check the id, give a local model folder, or download it once without HF_HUB_OFFLINE",
        )
    return ModelLoadError(name, f"not a local folder, and the Hugging Face hub has no such model or cannot be reached ({detail})")


@contextmanager
def model_errors(name: str) -> Iterator[None]:
    """Load model ``name`` inside this block; a library's failure becomes a ``ModelLoadError``."""
    try:
        yield
    except MmragError:
        raise
    except (OSError, ValueError, KeyError) as exc:  # not found, not a model, unknown model_type / config
        raise explain(name, exc) from exc
