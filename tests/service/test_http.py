"""``mmrag serve``'s JSON API through Starlette's test client (real index, real store)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

pytest.importorskip("starlette", reason="the 'agents' extra (starlette) is not installed")

from starlette.testclient import TestClient  # noqa: E402

from mmrag.service.core import Service  # noqa: E402
from mmrag.service.http_api import build_app  # noqa: E402


@pytest.fixture(scope="module")
def client(index) -> TestClient:
    return TestClient(build_app(Service(index)))


def test_search_returns_the_hit_contract(client: TestClient) -> None:
    hits = client.get("/search", params={"q": "how heavy is the load the crane lifts", "k": 3}).json()
    assert Path(hits[0]["source"]).name == "harbour.pdf" and hits[0]["page"] == 2
    only_page_one = client.get("/search", params={"q": "harbour", "filter": "page=1"}).json()
    assert only_page_one and all(h["page"] == 1 for h in only_page_one)


def test_chunk_and_its_thumbnail(client: TestClient) -> None:
    hit = client.get("/search", params={"q": "gantry crane containers"}).json()[0]
    found = client.get(f"/chunks/{hit['chunk_id']}").json()
    assert found["chunk"]["chunk_id"] == hit["chunk_id"]
    picture = client.get(f"/chunks/{hit['chunk_id']}/image")
    assert picture.status_code == 200 and picture.headers["content-type"] == "image/jpeg"
    assert max(Image.open(io.BytesIO(picture.content)).size) == 320


@pytest.mark.parametrize(("path", "status", "message"), [
    ("/search?q=crane&k=99", 400, "k must be an integer from 1 to 50"),
    ("/search?q=crane&k=two", 400, "k must be an integer"),
    ("/search?q=crane&mode=fuzzy", 400, "unknown search mode"),
    ("/search?q=crane&filter=page", 400, "query parameter filter 'page': expected key=value"),
    ("/search?q=crane&filter=page=two", 400, "query parameter filter 'page=two': page takes a number"),
    ("/search?q=crane&filter={page", 400, "query parameter filter '{page': not a JSON object"),
    ('/search?q=crane&filter={"page": {"$near": 1}}', 400, "unknown operator '$near'"),
    ("/search?q=crane&filter=modality=video", 400, "unknown modality 'video'"),
    ("/chunks/feedface", 404, "no chunk feedface"),
    ("/chunks/feedface/image", 404, "no chunk feedface"),
])
def test_bad_requests_get_the_cli_message(client: TestClient, path: str, status: int, message: str) -> None:
    response = client.get(path)
    assert response.status_code == status and message in response.json()["error"]
    assert "--filter" not in response.json()["error"]  # the HTTP caller has no such option


def test_json_filters_take_the_core_algebra_and_combine_with_pairs(client: TestClient, index) -> None:
    nested = '{"$or": [{"page": {"$gte": 2}}, {"modality": "image"}]}'
    hits = client.get("/search", params={"q": "crane roof", "k": 20, "filter": nested}).json()
    assert hits and all(h["page"] == 2 or h["modality"] == "image" for h in hits)
    assert {h["modality"] for h in hits} >= {"image"}
    both = client.get("/search", params=[("q", "crane roof"), ("k", "20"), ("filter", nested), ("filter", "modality=image")])
    assert both.status_code == 200 and both.json() and {h["modality"] for h in both.json()} == {"image"}
    assert client.get("/", params={"q": "crane", "filter": '{"page": {"$lt": 2}}'}).status_code == 200


def test_no_writes_without_allow_ingest(client: TestClient) -> None:
    assert client.post("/ingest", json={"paths": ["x"]}).status_code in (404, 405)
    assert {s["chunks"] > 0 for s in client.get("/sources").json()} == {True}


def test_bearer_token(index) -> None:
    guarded = TestClient(build_app(Service(index), token="s3cret"))
    assert guarded.get("/sources").status_code == 401
    assert guarded.get("/sources", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert guarded.get("/sources", headers={"Authorization": "Bearer s3cret"}).status_code == 200
