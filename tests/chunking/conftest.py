"""Fixtures for these tests; the files themselves are made in tests/mixed_files.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.mixed_files import write_deck


@pytest.fixture
def deck_path(tmp_path: Path) -> Path:
    """A real .pptx written by python-pptx (see ``write_deck``)."""
    return write_deck(tmp_path)
