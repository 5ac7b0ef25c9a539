"""Where a model runs and in what precision: ``auto`` picks cuda, then mps, then cpu."""

from __future__ import annotations

from typing import Any

from mmrag.types import ChoiceEnum


class Precision(ChoiceEnum):
    """Model weight dtypes an embedder accepts; ``auto`` is float16 on accelerators, float32 on CPU."""

    __noun__ = "dtype"

    AUTO = "auto"
    FLOAT32 = "float32"
    FLOAT16 = "float16"
    BFLOAT16 = "bfloat16"


def resolve_device(device: str | None) -> str:
    """``None``/``"auto"`` -> the best available of cuda, mps, cpu; anything else is passed to torch as is."""
    import torch

    if device not in (None, "auto"):
        return str(device)
    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


def resolve_dtype(dtype: str | Precision, device: str) -> Any:
    """The ``torch.dtype`` for ``dtype`` on ``device`` (half precision is slow or unsupported on CPU)."""
    import torch

    precision = Precision.parse(dtype)
    if precision is Precision.AUTO:
        return torch.float32 if device.startswith("cpu") else torch.float16
    return getattr(torch, precision.value)
