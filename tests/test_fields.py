"""mmrag.fields: the loose-metadata readers both adapters share."""

from __future__ import annotations

import math

import pytest

from mmrag.errors import InvalidArgument
from mmrag.fields import check_id, locations


def test_ids_of_any_length_pass_and_non_strings_fail() -> None:
    assert check_id("/a/very/long/path/" * 20) == "/a/very/long/path/" * 20
    for bad in ("", None, 7):
        with pytest.raises(InvalidArgument, match="node id .* must be a non-empty string"):
            check_id(bad, "node id")


def test_locations_keep_what_makes_sense_only() -> None:
    assert locations({"page": 3, "slide": True, "start": 1.5, "end": 4, "context": "Doc > Part"}) == {
        "context": "Doc > Part", "page": 3, "slide": None, "start": 1.5, "end": 4.0}
    assert locations({"page": 0, "start": 5.0, "end": 2.0}) == {
        "context": "", "page": None, "slide": None, "start": None, "end": None}
    assert locations({"start": math.nan, "end": 3.0})["start"] is None
