"""``mmrag mcp --http`` (streamable HTTP) driven by the SDK's own client, as a remote agent host would."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

pytest.importorskip("mcp", reason="the 'agents' extra (mcp) is not installed")

from mcp import Client  # noqa: E402

from tests.service.test_mcp import exercise  # noqa: E402


@pytest.mark.slow  # a server process loading MiniLM
async def test_streamable_http_transport_with_the_sdk_client(cold_store: str) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "mmrag.cli", "mcp", "--store", cold_store, "--http", f"127.0.0.1:{port}"],
                            env=dict(os.environ), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 300
        while True:  # listening once any HTTP answer comes back
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/mcp", timeout=5)
                break
            except urllib.error.HTTPError:
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    proc.kill()
                    pytest.fail(f"mmrag mcp --http did not start: {proc.communicate()[1]}")
                time.sleep(0.5)
        async with Client(f"http://127.0.0.1:{port}/mcp", read_timeout_seconds=120) as client:
            await exercise(client)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
