"""The service both servers share: validation, fetch's neighbours, pictures, containment."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from mmrag.service.citations import cite, clock
from mmrag.service.core import MAX_QUERY_CHARS, NotFound, RequestError, Service
from mmrag.ingest.walk import PathRefused


@pytest.fixture(scope="module")
def service(index) -> Service:
    return Service(index)


def hit_for(service: Service, query: str, **kw) -> dict:
    return service.search(query, k=5, **kw)[0]


def test_search_returns_the_hit_contract_and_the_right_page(service: Service) -> None:
    hit = hit_for(service, "how heavy is the load the crane lifts")
    assert Path(hit["source"]).name == "harbour.pdf" and hit["page"] == 2
    assert {"chunk_id", "source", "modality", "page", "slide", "start", "end", "score", "text"} <= hit.keys()
    assert cite(hit) == "harbour.pdf, p. 2"


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"query": "x" * (MAX_QUERY_CHARS + 1)}, "the limit is"),
    ({"query": "crane", "k": 0}, "k must be an integer from 1 to 50"),
    ({"query": "crane", "k": 51}, "k must be an integer from 1 to 50"),
    ({"query": "crane", "mode": "fuzzy"}, "unknown search mode"),
    ({"query": "crane", "filters": {"page; drop": 1}}, "filter key"),
    ({"query": "crane", "filters": {"page": {"$like": 1}}}, "unknown operator '\\$like'"),
    ({"query": "crane", "filters": {"page": "two"}}, "page is a whole number"),
    ({"query": "crane", "filters": ["page"]}, "filters are a dict"),
    ({"query": "crane", "filters": {"modality": "video"}}, "unknown modality"),
    ({"query": "   "}, "the query is empty"),
    ({"query": "crane", "image_path": "/no/such.png"}, "no such file"),
])
def test_bad_search_arguments_are_refused_with_what_to_do(service: Service, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        service.search(**kwargs)


def test_filters_restrict_hits(service: Service) -> None:
    hits = service.search("harbour", k=10, filters={"page": 1})
    assert hits and all(h["page"] == 1 for h in hits)


def test_filters_take_whatever_the_core_takes(service: Service) -> None:
    """Mongo operators and nesting (what an MCP client sends) pass through the one core
    validator: the same hits as Index.search gives for the same filter."""
    nested = {"$or": [{"page": {"$gt": 1}}, {"modality": "image"}], "source": {"$ne": "nowhere.pdf"}}
    hits = service.search("crane roof", k=20, filters=nested)
    assert hits and all(h["page"] == 2 or h["modality"] == "image" for h in hits)
    assert {h["chunk_id"] for h in hits} == {h.chunk.id for h in service.index.search("crane roof", 20, filters=nested)}
    assert {h["modality"] for h in hits} >= {"image"} and any(h["page"] == 2 for h in hits)


def test_fetch_gives_the_transcript_windows_around_a_moment(service: Service) -> None:
    hit = hit_for(service, "budget for the quay wall approved", filters={"source": [h["source"] for h in service.sources()
                                                                                     if h["source"].endswith(".vtt")]})
    found = service.fetch(hit["chunk_id"])
    assert found["chunk"]["chunk_id"] == hit["chunk_id"] and "budget" in found["chunk"]["text"]
    for n in found["neighbours"]:
        assert n["start"] is not None and n["chunk_id"] != hit["chunk_id"]


def test_fetch_and_image_of_unknown_chunks(service: Service) -> None:
    with pytest.raises(NotFound, match="no chunk 0123abcd"):
        service.fetch("0123abcd")
    with pytest.raises(RequestError, match="is not an id"):
        service.fetch("../../etc/passwd")


def test_page_image_is_a_downscaled_render_of_the_pdf_page(service: Service) -> None:
    hit = hit_for(service, "gantry crane containers forty tonnes")
    data = service.image(hit["chunk_id"], max_side=300)
    picture = Image.open(io.BytesIO(data))
    assert picture.format == "JPEG" and max(picture.size) == 300
    assert picture.size == (300, 225)  # the 400x300 pt page, aspect kept
    assert service.image(hit["chunk_id"], max_side=300) is data  # cached
    with pytest.raises(RequestError, match="max_side"):
        service.image(hit["chunk_id"], max_side=10_000)


def test_a_text_only_chunk_has_no_picture(service: Service) -> None:
    hit = hit_for(service, "lentil soup in the canteen")
    with pytest.raises(NotFound, match="has no picture"):
        service.image(hit["chunk_id"])


def test_read_only_by_default(service: Service, corpus: Path) -> None:
    assert service.read_only
    with pytest.raises(RequestError, match="read-only"):
        service.ingest([str(corpus / "notes.md")])


def test_ingest_only_under_the_allowed_folder(index, corpus: Path, tmp_path: Path) -> None:
    allowed = tmp_path / "inbox"
    allowed.mkdir()
    (allowed / "memo.md").write_text("# Memo\n\nThe ferry timetable changes in March.\n", encoding="utf-8")
    outside = tmp_path / "secret.md"
    outside.write_text("# Secret\n\nnot for the index\n", encoding="utf-8")
    (allowed / "link.md").symlink_to(outside)
    writer = Service(index, allow_ingest=allowed)
    for bad in ["../secret.md", str(outside), "link.md", "/etc"]:
        with pytest.raises(PathRefused, match="outside the folder"):
            writer.ingest([bad])
    walked = writer.ingest(["."])  # a folder's link out of it is skipped with a note, its own file read
    status = {Path(f["path"]).name: (f["status"], f["reason"]) for f in walked["files"]}
    assert status["link.md"][0] == "skipped" and "outside the folder being ingested" in status["link.md"][1]
    assert status["memo.md"][0] == "ingested"
    assert not any("secret" in s["source"] for s in writer.sources())
    (allowed / "link.md").unlink()
    report = writer.ingest(["memo.md"])
    assert report["ingested"] == 1 if "ingested" in report else report
    assert any(s["source"].endswith("memo.md") for s in writer.sources())
    index.store.delete_source_path(str((allowed / "memo.md").resolve()))


def test_clock() -> None:
    assert clock(65.9) == "01:05" and clock(3723) == "1:02:03"
