"""Session fixtures: tiny random models (see tiny_models.py) saved to temp dirs and loaded by path."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.embedding.tiny_models import (
    build_clip,
    build_colbert,
    build_colpali,
    build_colqwen2,
    build_siglip,
    write_jpegs,
)


@pytest.fixture(scope="session")
def clip_path(tmp_path_factory) -> str:
    return str(build_clip(tmp_path_factory.mktemp("tiny-clip")))


@pytest.fixture(scope="session")
def siglip_path(tmp_path_factory) -> str:
    return str(build_siglip(tmp_path_factory.mktemp("tiny-siglip")))


@pytest.fixture(scope="session")
def colpali_path(tmp_path_factory) -> str:
    return str(build_colpali(tmp_path_factory.mktemp("tiny-colpali")))


@pytest.fixture(scope="session")
def colqwen2_path(tmp_path_factory) -> str:
    return str(build_colqwen2(tmp_path_factory.mktemp("tiny-colqwen2")))


@pytest.fixture(scope="session")
def colbert_path(tmp_path_factory) -> str:
    return str(build_colbert(tmp_path_factory.mktemp("tiny-colbert")))


@pytest.fixture
def jpegs(tmp_path) -> list[Path]:
    """Five real JPEGs: landscape, tall, large, small square, odd-sized."""
    return write_jpegs(tmp_path, [(300, 200), (64, 640), (1000, 800), (40, 40), (33, 31)])
