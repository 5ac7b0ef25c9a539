"""The search page of ``mmrag serve`` in a real headless Chromium (Debian's ``chromium``
driven by Playwright; no Playwright browser download): it searches, the thumbnails
render, the right hit is first, query words are marked, a moment opens its source at
that time, and nothing from the query or the index becomes markup."""

from __future__ import annotations

import shutil
import socket
import threading
import time
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("uvicorn", reason="the 'agents' extra (uvicorn) is not installed")
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None:
    pytest.skip("no chromium on PATH (Debian: apt-get install chromium)", allow_module_level=True)

import uvicorn  # noqa: E402

from mmrag.service.core import Service  # noqa: E402
from mmrag.service.http_api import build_app  # noqa: E402
from mmrag.service.page import highlight  # noqa: E402

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "search-page.png"


def test_highlight_escapes_text_and_query() -> None:
    assert highlight("a <script>crane</script> & CRANES", "crane <script>") == (
        "a &lt;<mark>script</mark>&gt;<mark>crane</mark>&lt;/<mark>script</mark>&gt; &amp; <mark>CRANE</mark>S"
    )
    assert highlight("this history", "his") == "this <mark>his</mark>tory"  # from a word's start, never inside one
    assert highlight("the crane", "the crane") == "the <mark>crane</mark>"  # common words stay unmarked


@pytest.fixture(scope="module")
def served(index):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(build_app(Service(index)), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=30)


@pytest.fixture(scope="module")
def page():
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield browser.new_page(viewport={"width": 1100, "height": 900})
        browser.close()


@pytest.mark.slow  # a browser start and a model-backed search
def test_search_page_in_a_real_browser(served: str, page, corpus: Path) -> None:
    page.goto(served + "/")
    page.fill("input[name=q]", "how heavy is the load the gantry crane lifts")
    page.select_option("select[name=mode]", "hybrid")
    page.click("button[type=submit]")
    page.wait_for_selector("#hits .hit")
    first = page.locator(".hit").first
    assert first.locator(".file").inner_text() == "harbour.pdf" and first.locator(".place").inner_text() == "p. 2"
    assert "crane" in [m.lower() for m in first.locator("mark").all_inner_texts()]
    page.wait_for_function("[...document.images].every(i => i.complete)")
    widths = page.eval_on_selector_all(".thumb img", "imgs => imgs.map(i => i.naturalWidth)")
    assert widths and all(w > 0 for w in widths)  # every thumbnail left decoded (text-only chunks drop theirs)
    assert first.locator(".thumb img").count() == 1  # the PDF page's own render
    page.screenshot(path=str(SCREENSHOT) if SCREENSHOT.parent.is_dir() and _refresh() else str(corpus.parent / "page.png"))

    page.goto(served + "/?q=quay+wall+budget+approved&mode=bm25")
    moment = page.locator(".hit").first.locator("a.moment")
    assert page.locator(".hit").first.locator(".file").inner_text() == "standup.vtt"
    assert moment.inner_text() == "00:01–01:12" and moment.get_attribute("href").endswith("#t=1")
    with urllib.request.urlopen(served + moment.get_attribute("href").split("#")[0], timeout=30) as opened:
        assert b"quay wall" in opened.read()  # the very source, served from the index's own record

    page.goto(served + "/?q=%3Cimg+src%3Dx+onerror%3Dalert(1)%3E+crane&mode=bm25")
    assert page.locator("img[src=x]").count() == 0 and page.input_value("input[name=q]").startswith("<img src=x")
    page.goto(served + "/?q=crane&filter=bad+key%3D1")
    assert "filter" in page.locator(".error").inner_text()


def test_files_route_serves_only_ingested_sources(served: str) -> None:
    for path in ("/files/..%2F..%2Fetc%2Fpasswd", "/files/deadbeef"):
        try:
            urllib.request.urlopen(served + path, timeout=30)
            raise AssertionError(f"{path} was served")
        except urllib.error.HTTPError as exc:
            assert exc.code in (400, 404)


def _refresh() -> bool:
    """Write docs/search-page.png only when asked (MMRAG_SCREENSHOT=1), so test runs leave the tree clean."""
    import os

    return os.environ.get("MMRAG_SCREENSHOT") == "1"


def test_with_a_token_the_browser_signs_in_once_by_cookie(index) -> None:
    from starlette.testclient import TestClient

    client = TestClient(build_app(Service(index), token="t0ken"), follow_redirects=False)
    assert client.get("/").status_code == 401 and "/?token=" in client.get("/").json()["error"]
    assert client.get("/?token=wrong").status_code == 401
    signed_in = client.get("/?token=t0ken")
    assert signed_in.status_code == 303 and "httponly" in signed_in.headers["set-cookie"].lower()
    page = client.get("/?q=gantry+crane&mode=bm25")  # the client keeps the cookie, as a browser does
    assert page.status_code == 200 and "harbour.pdf" in page.text
    stranger = TestClient(build_app(Service(index), token="t0ken"))
    stranger.cookies.set("mmrag_token", "nope")
    assert stranger.get("/").status_code == 401
