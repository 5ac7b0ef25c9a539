"""``mmrag mcp`` driven by the SDK's own client: in process (fast) and over stdio
as an agent host runs it (slow: a fresh process loads the model)."""

from __future__ import annotations

import base64
import io
import os
import sys
from pathlib import Path

import pytest
from PIL import Image

pytest.importorskip("mcp", reason="the 'agents' extra (mcp) is not installed")

from mcp import Client  # noqa: E402
from mcp.client.stdio import StdioServerParameters  # noqa: E402

from mmrag.service.core import Service  # noqa: E402
from mmrag.service.mcp_server import build_server  # noqa: E402

READ_TOOLS = {"search", "fetch", "page_image", "sources"}


async def exercise(client: Client) -> None:
    """What every transport must do: list the tools, call each, bad input, read-only."""
    tools = {t.name: t for t in (await client.list_tools()).tools}
    assert set(tools) == READ_TOOLS  # no ingest without --allow-ingest
    assert tools["search"].input_schema["properties"]["k"]["maximum"] == 50
    assert tools["page_image"].input_schema["properties"]["max_side"]["minimum"] == 64
    assert "hits" in tools["search"].output_schema["properties"]
    assert "cite" in tools["search"].description.lower()

    found = await client.call_tool("search", {"query": "how heavy is the load the crane lifts", "k": 3})
    assert not found.is_error
    hits = found.structured_content["hits"]
    assert Path(hits[0]["source"]).name == "harbour.pdf" and hits[0]["page"] == 2
    assert found.content[0].text.startswith("[1] harbour.pdf, p. 2 (chunk_id ")

    fetched = await client.call_tool("fetch", {"chunk_id": hits[0]["chunk_id"]})
    assert not fetched.is_error and fetched.structured_content["chunk"]["chunk_id"] == hits[0]["chunk_id"]
    assert "gantry crane" in fetched.content[0].text

    picture = await client.call_tool("page_image", {"chunk_id": hits[0]["chunk_id"], "max_side": 256})
    assert not picture.is_error and picture.content[0].type == "image"
    assert picture.content[0].mime_type == "image/jpeg"
    assert max(Image.open(io.BytesIO(base64.b64decode(picture.content[0].data))).size) == 256

    listed = await client.call_tool("sources", {})
    assert {Path(s["source"]).name for s in listed.structured_content["sources"]} >= {"harbour.pdf", "standup.vtt"}

    for name, args, message in [  # the service's own sentence, on one line, even where pydantic checks the type
        ("search", {"query": "crane", "k": 500}, "Error executing tool search: k must be an integer from 1 to 50, got 500"),
        ("search", {"query": "crane", "k": "many"}, "k must be an integer from 1 to 50, got 'many'"),
        ("search", {"query": "crane", "k": "few", "filters": [1]}, "got 'few'; filters: input should be a valid dictionary"),
        ("page_image", {"chunk_id": hits[0]["chunk_id"], "max_side": 9999}, "max_side must be an integer from 64 to 2048"),
        ("search", {"query": "crane", "filters": {"bad key": 1}}, "filter key"),
        ("search", {"query": "crane", "mode": "fuzzy"}, "unknown search mode"),
        ("fetch", {"chunk_id": "feedface"}, "no chunk feedface"),
        ("ingest", {"paths": ["/etc"]}, "ingest"),
    ]:
        bad = await client.call_tool(name, args)
        assert bad.is_error and message in bad.content[0].text, (name, bad.content[0].text)
        assert "\n" not in bad.content[0].text and "pydantic" not in bad.content[0].text
    again = await client.call_tool("search", {"query": "tidal gauges storm season", "k": 1})
    assert not again.is_error  # errors did not kill the server


async def test_mcp_tools_in_process(index) -> None:
    async with Client(build_server(Service(index))) as client:
        await exercise(client)


async def test_ingest_tool_only_with_allow_ingest(index, tmp_path: Path) -> None:
    (tmp_path / "memo.md").write_text("# Memo\n\nThe ferry timetable changes in March.\n", encoding="utf-8")
    async with Client(build_server(Service(index, allow_ingest=tmp_path))) as client:
        assert "ingest" in {t.name for t in (await client.list_tools()).tools}
        refused = await client.call_tool("ingest", {"paths": ["/etc/hostname"]})
        assert refused.is_error and "outside the folder" in refused.content[0].text
        done = await client.call_tool("ingest", {"paths": ["memo.md"]})
        assert not done.is_error, done.content
        found = await client.call_tool("search", {"query": "ferry timetable March", "k": 1})
        assert Path(found.structured_content["hits"][0]["source"]).name == "memo.md"
    index.store.delete_source_path(str((tmp_path / "memo.md").resolve()))


@pytest.mark.slow
async def test_mcp_over_stdio_as_an_agent_host_runs_it(corpus: Path, tmp_path: Path) -> None:
    import subprocess

    # Milvus Lite locks a file to one process, and this one holds the module's store: the host's own store.
    store = str(tmp_path / "own.db")
    subprocess.run([sys.executable, "-m", "mmrag.cli", "ingest", str(corpus), "--store", store],
                   check=True, capture_output=True, timeout=300)
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "PYTHONPATH", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    params = StdioServerParameters(command=sys.executable, args=["-m", "mmrag.cli", "mcp", "--store", store], env=env)
    async with Client(params, read_timeout_seconds=120) as client:
        await exercise(client)
