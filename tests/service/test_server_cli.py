"""``mmrag search --server URL`` against a real ``mmrag serve`` on 127.0.0.1: the same output
as a local search, the bearer token, MMRAG_SERVER, and clear errors without a server."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mmrag.cli import app
from mmrag.service.record import RECORD

pytest.importorskip("uvicorn", reason="the 'agents' extra (uvicorn) is not installed")

TOKEN = "s3cret-token"
QUERIES = [  # (arguments, output flag): hybrid and bm25, hit contract and text lines, a filter
    (["how heavy is the load the crane lifts", "--k", "3"], "--json"),
    (["gantry crane containers", "--mode", "bm25", "--k", "4"], "--json"),
    (["the budget for the quay wall", "--k", "3"], None),
    (["harbour", "--filter", "page=1", "--mode", "bm25"], "--json"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mmrag.cli", *args], capture_output=True, text=True, timeout=300,
                          env=env or dict(os.environ))


@pytest.mark.parametrize("path", ["", "/mcp"])
def test_no_server_at_the_url_is_a_clear_error(path: str) -> None:
    url = f"http://127.0.0.1:{_free_port()}{path}"
    result = CliRunner().invoke(app, ["search", "crane", "--server", url])
    assert result.exit_code == 2 and f"no mmrag server answers at {url}" in result.output
    assert "mmrag serve" in result.output


def test_mcp_answers_are_read_from_json_or_an_event_stream() -> None:
    from mmrag.service.client import ServerError, _rpc_answer

    sse = b'event: message\ndata: {"jsonrpc":"2.0","id":2,"result":{"hits":[]}}\n\n'
    assert _rpc_answer(sse, "text/event-stream", 2, "u") == {"hits": []}
    assert _rpc_answer(b'{"jsonrpc":"2.0","id":1,"result":{"a":1}}', "application/json", 1, "u") == {"a": 1}
    assert _rpc_answer(b"", "application/json", None, "u") is None  # a notification's 202
    with pytest.raises(ServerError, match="refused the search: Invalid params"):
        _rpc_answer(b'{"jsonrpc":"2.0","id":1,"error":{"code":-32602,"message":"Invalid params"}}', "application/json", 1, "u")
    with pytest.raises(ServerError, match="did not answer as an MCP server"):
        _rpc_answer(b"<html>not mcp</html>", "text/html", 1, "u")


@pytest.mark.parametrize(("args", "message"), [
    (["--server", "ftp://host:1"], "expected the address of `mmrag serve`"),
    (["--server", "http://127.0.0.1:1/mcp", "--filter", "page"], "--filter 'page': expected key=value"),
    (["--server", "http://127.0.0.1:1", "--rerank", "bi-encoder"], "--rerank cannot go to a server"),
    (["--server", "http://127.0.0.1:1", "--fusion", "rrf"], "--fusion cannot go to a server"),
])
def test_options_a_server_cannot_take_are_refused(args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["search", "crane", *args])
    assert result.exit_code == 2 and message in result.output


def _wait_listening(proc: subprocess.Popen, url: str, headers: dict[str, str] | None = None) -> None:
    deadline = time.monotonic() + 300
    while True:  # it listens once the store is open and the model loaded; any HTTP answer will do
        try:
            urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=5)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"the server did not start: {proc.communicate()[1]}")
            time.sleep(0.5)


@pytest.fixture(scope="module")
def local_outputs(cold_store: str) -> list[str]:
    """Each query's output from an ordinary cold CLI run, before the server takes the store's lock."""
    outputs = []
    for args, flag in QUERIES:
        done = _cli("search", *args, *([flag] if flag else []), "--store", cold_store)
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout)
    return outputs


def _record(store: str, url: str, pid: int) -> None:
    (Path(store) / RECORD).write_text(json.dumps({"url": url, "pid": pid, "collection": "mmrag"}), encoding="utf-8")


def test_a_record_of_a_server_that_is_gone_or_silent_is_ignored(cold_store: str, local_outputs: list[str], tmp_path) -> None:
    """A server killed with SIGKILL leaves its record: its pid is dead, or reused by a process
    that does not answer; either way the search opens the store itself and prints the same."""
    store = str(shutil.copytree(cold_store, tmp_path / "copy.db"))
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait(timeout=60)
    silent = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    try:
        for pid in (gone.pid, silent.pid):
            _record(store, f"http://127.0.0.1:{_free_port()}", pid)
            done = _cli("search", *QUERIES[1][0], "--json", "--store", store)
            assert done.returncode == 0, done.stderr
            assert done.stdout == local_outputs[1]
    finally:
        silent.kill()
        silent.wait(timeout=60)


@pytest.fixture(scope="module")
def server(cold_store: str, local_outputs: list[str]):
    url = f"http://127.0.0.1:{_free_port()}"
    env = dict(os.environ, MMRAG_SERVER_TOKEN=TOKEN)
    proc = subprocess.Popen([sys.executable, "-m", "mmrag.cli", "serve", "--store", cold_store, "--bind", url[7:]],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    _wait_listening(proc, f"{url}/sources", {"Authorization": f"Bearer {TOKEN}"})
    yield url
    proc.terminate()
    proc.wait(timeout=30)
    assert not (Path(cold_store) / RECORD).exists()  # SIGTERM: uvicorn stops, the record goes with it


@pytest.mark.slow  # a server process and cold CLI runs loading MiniLM
def test_search_through_the_server_prints_what_a_local_search_prints(server: str, local_outputs: list[str]) -> None:
    env = dict(os.environ, MMRAG_SERVER_TOKEN=TOKEN)
    for (args, flag), local in zip(QUERIES, local_outputs):
        done = _cli("search", *args, *([flag] if flag else []), "--server", server, env=env)
        assert done.returncode == 0, done.stderr
        assert done.stdout == local
    assert "harbour.pdf" in local_outputs[0] and "standup.vtt" in local_outputs[2]  # real hits, a moment among them

    env_only = dict(env, MMRAG_SERVER=server)  # the variable instead of the option
    done = _cli("search", *QUERIES[1][0], "--json", env=env_only)
    assert done.returncode == 0 and done.stdout == local_outputs[1]

    wrong = _cli("search", "crane", "--server", server, env=dict(os.environ, MMRAG_SERVER_TOKEN="wrong"))
    assert wrong.returncode == 2 and "refused the search (401)" in wrong.stderr and "bearer token" in wrong.stderr
    bad_k = _cli("search", "crane", "--server", server, "--k", "500", env=env)
    assert bad_k.returncode == 2 and "k must be an integer from 1 to 50" in bad_k.stderr
    # the server kept serving through the refusals
    assert urllib.request.urlopen(urllib.request.Request(f"{server}/sources", headers={"Authorization": f"Bearer {TOKEN}"}), timeout=10).status == 200


@pytest.mark.slow  # a server process and cold CLI runs loading MiniLM
def test_a_plain_search_on_the_store_a_server_holds_asks_that_server(
    cold_store: str, server: str, local_outputs: list[str]
) -> None:
    """Milvus Lite lets one process open a store; the server records itself in the store's folder,
    and `mmrag search --store` (no --server) goes to it with the same output as a local run."""
    assert json.loads((Path(cold_store) / RECORD).read_text())["url"] == server
    env = {k: v for k, v in os.environ.items() if k != "MMRAG_SERVER"}
    for (args, flag), local in zip(QUERIES, local_outputs):
        done = _cli("search", *args, *([flag] if flag else []), "--store", cold_store, env=dict(env, MMRAG_SERVER_TOKEN=TOKEN))
        assert done.returncode == 0, done.stderr
        assert done.stdout == local
    no_token = _cli("search", "crane", "--store", cold_store, env=env)
    assert no_token.returncode == 2 and f"the server at {server} refused the search (401)" in no_token.stderr
    local_only = _cli("search", "crane", "--store", cold_store, "--rerank", "bi-encoder", env=dict(env, MMRAG_SERVER_TOKEN=TOKEN))
    assert local_only.returncode == 2, local_only.stderr
    assert "is in use by another process" in local_only.stderr and f"the server at {server}" in local_only.stderr
    assert "--rerank cannot go to a server" in local_only.stderr and "Traceback" not in local_only.stderr
    other = _cli("search", "crane", "--store", cold_store, "--collection", "other", env=dict(env, MMRAG_SERVER_TOKEN=TOKEN))
    assert other.returncode == 2 and "it serves collection 'mmrag'" in other.stderr


@pytest.mark.slow  # a server process and cold CLI runs
def test_search_through_the_mcp_transport_prints_what_a_local_search_prints(
    cold_store: str, local_outputs: list[str], tmp_path
) -> None:
    store = shutil.copytree(cold_store, tmp_path / "mcp_store.db")  # Milvus Lite: one process per store
    url = f"http://127.0.0.1:{_free_port()}/mcp"
    proc = subprocess.Popen([sys.executable, "-m", "mmrag.cli", "mcp", "--store", str(store), "--http", url[7:-4]],
                            env=dict(os.environ), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        _wait_listening(proc, url)
        for (args, flag), local in zip(QUERIES, local_outputs):
            done = _cli("search", *args, *([flag] if flag else []), "--server", url)
            assert done.returncode == 0, done.stderr
            assert done.stdout == local
        assert json.loads((store / RECORD).read_text())["url"] == url  # a plain search on its store asks it too
        plain = _cli("search", *QUERIES[0][0], QUERIES[0][1], "--store", str(store))
        assert plain.returncode == 0 and plain.stdout == local_outputs[0], plain.stderr
        bad_k = _cli("search", "crane", "--server", url, "--k", "500")
        assert bad_k.returncode == 2 and "refused the search" in bad_k.stderr and "k must be an integer from 1 to 50, got 500" in bad_k.stderr
        bad_key = _cli("search", "crane", "--server", url, "--filter", "no such=1")
        assert bad_key.returncode == 2 and "filter key 'no such'" in bad_key.stderr
        assert _cli("search", "crane", "--server", url, "--mode", "bm25").returncode == 0  # still serving
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert not (store / RECORD).exists()  # removed as the server stopped: the store is the CLI's again
    after = _cli("search", *QUERIES[1][0], "--json", "--store", str(store))
    assert after.returncode == 0 and after.stdout == local_outputs[1], after.stderr
