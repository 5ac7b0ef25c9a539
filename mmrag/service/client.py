"""``mmrag search --server URL``: ask a running ``mmrag serve`` (or ``mmrag mcp --http``)
instead of loading the store and models.

The standard library's ``urllib`` and nothing else: this is the path that must
start in milliseconds, and it needs one GET with a bearer header and a bounded
wait, which a client library would only add import time to. An address ending in
``/mcp`` is the MCP streamable HTTP transport: three JSON-RPC posts (initialize,
initialized, ``tools/call search``) and the session's end; the SDK's client would
cost 1.3 s of imports for that.
"""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from typing import Any

from mmrag.errors import InvalidArgument, MmragError
from mmrag.version import __version__

SERVER_ENV = "MMRAG_SERVER"  # the CLI's --server default
TOKEN_ENV = "MMRAG_SERVER_TOKEN"  # the bearer token a server requires and the CLI sends
TIMEOUT_S = 60.0  # a first hybrid query on a cold server loads its model; later ones take milliseconds
MAX_RESPONSE_BYTES = 64 * 1024 * 1024  # k <= 50 hits of bounded text: far below this
MCP_PROTOCOL = "2025-11-25"  # the newest revision reached by the initialize handshake
SESSION_HEADER = "mcp-session-id"


class ServerError(MmragError):
    """The server refused the request, or could not be reached; the message says which and what to do."""


class Unreachable(ServerError):
    """Nothing answers at the address (no server, or not listening yet)."""


def check_url(url: str) -> str:
    """``url`` without a trailing slash, refused unless it is ``http(s)://host[:port][/prefix]``."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise InvalidArgument(
            f"--server {url!r}: expected the address of `mmrag serve`, e.g. http://127.0.0.1:8765, "
            "or of `mmrag mcp --http`, e.g. http://127.0.0.1:8766/mcp"
        )
    return url.rstrip("/")


def is_mcp(url: str) -> bool:
    """Whether ``url`` is an MCP streamable HTTP endpoint (``mmrag mcp --http`` serves ``/mcp``)."""
    return urllib.parse.urlsplit(url).path.rstrip("/").endswith("/mcp")


def remote_search(
    url: str, query: str, k: int, mode: str, filters: Sequence[str], token: str | None = None,
    timeout: float = TIMEOUT_S,
) -> list[dict[str, Any]]:
    """The hits ``GET {url}/search`` returns (the ``mmrag search --json`` contract), or those of the
    MCP ``search`` tool where ``url`` ends in ``/mcp``.

    ``filters`` are the CLI's ``key=value`` strings: the HTTP server parses them as the CLI does."""
    base = check_url(url)
    if is_mcp(base):
        from mmrag.stores.filters import parse_cli_filters

        return _mcp_search(base, {"query": query, "k": k, "mode": mode, "filters": parse_cli_filters(list(filters))},
                           token, timeout)
    params = [("q", query), ("k", str(k)), ("mode", mode), *(("filter", f) for f in filters)]
    request = urllib.request.Request(f"{base}/search?{urllib.parse.urlencode(params)}", headers={"Accept": "application/json"})
    body, _ = _send(request, base, token, timeout)
    try:
        hits = json.loads(body)
    except ValueError:
        hits = None
    if not isinstance(hits, list):
        raise ServerError(f"{base}/search did not return a list of hits: is this address an `mmrag serve`?")
    return hits


def _send(request: urllib.request.Request, base: str, token: str | None, timeout: float) -> tuple[bytes, Any]:
    """The body and headers of the answer to ``request``; every failure a ``ServerError`` sentence."""
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body, headers = response.read(MAX_RESPONSE_BYTES + 1), response.headers
    except urllib.error.HTTPError as exc:
        raise ServerError(f"the server at {base} refused the search ({exc.code}): {_message(exc)}") from None
    except (urllib.error.URLError, ConnectionError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, (TimeoutError, socket.timeout)):
            raise ServerError(f"the server at {base} did not answer within {timeout:.0f} s") from None
        raise Unreachable(
            f"no mmrag server answers at {base} ({reason}): start one with `mmrag serve` (or `mmrag mcp --http`), "
            "or search without --server"
        ) from None
    except TimeoutError:
        raise ServerError(f"the server at {base} did not answer within {timeout:.0f} s") from None
    if len(body) > MAX_RESPONSE_BYTES:
        raise ServerError(f"the server at {base} sent more than {MAX_RESPONSE_BYTES // 2**20} MB for one search")
    return body, headers


def _mcp_search(base: str, arguments: dict[str, Any], token: str | None, timeout: float) -> list[dict[str, Any]]:
    """Call the ``search`` tool of the MCP server at ``base`` in a session of its own."""
    session: dict[str, str] = {}

    def post(message: dict[str, Any]) -> dict[str, Any] | None:
        headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream",
                   "MCP-Protocol-Version": MCP_PROTOCOL, **session}
        request = urllib.request.Request(base, data=json.dumps(message).encode(), headers=headers, method="POST")
        body, answer = _send(request, base, token, timeout)
        if answer.get(SESSION_HEADER):
            session[SESSION_HEADER] = answer[SESSION_HEADER]
        return _rpc_answer(body, answer.get_content_type(), message.get("id"), base)

    post({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": MCP_PROTOCOL, "capabilities": {}, "clientInfo": {"name": "mmrag-cli", "version": __version__}}})
    post({"jsonrpc": "2.0", "method": "notifications/initialized"})
    try:
        result = post({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "search", "arguments": arguments}})
    finally:
        if session:  # end the session (best effort: the server forgets idle ones anyway)
            try:
                _send(urllib.request.Request(base, headers=dict(session), method="DELETE"), base, token, 5.0)
            except ServerError:
                pass
    if result.get("isError"):
        text = " ".join(c.get("text", "") for c in result.get("content", []) if isinstance(c, dict)).strip()
        raise ServerError(f"the server at {base} refused the search: {text or 'a tool error'}")
    hits = (result.get("structuredContent") or {}).get("hits")
    if not isinstance(hits, list):
        raise ServerError(f"the search tool at {base} returned no hits list: is this address an `mmrag mcp --http`?")
    return hits


def _rpc_answer(body: bytes, content_type: str, wanted: Any, base: str) -> dict[str, Any] | None:
    """The result of JSON-RPC request ``wanted`` from a JSON or server-sent-events body (None for a notification)."""
    if wanted is None:
        return None
    if content_type == "text/event-stream":
        texts = [line[5:].strip() for line in body.decode("utf-8", "replace").splitlines() if line.startswith("data:")]
    else:
        texts = [body.decode("utf-8", "replace")]
    for text in texts:
        try:
            message = json.loads(text)
        except ValueError:
            continue
        if isinstance(message, dict) and message.get("id") == wanted:
            if "error" in message:
                error = message["error"]
                detail = error.get("message", error) if isinstance(error, dict) else error
                raise ServerError(f"the server at {base} refused the search: {detail}")
            return message.get("result") or {}
    raise ServerError(f"{base} did not answer as an MCP server: is this address an `mmrag mcp --http`?")


def _message(exc: urllib.error.HTTPError) -> str:
    """The ``{"error": ...}`` sentence of an mmrag server, else the HTTP reason."""
    try:
        return str(json.loads(exc.read(65536))["error"])
    except (ValueError, KeyError, TypeError, OSError):
        return str(exc.reason)
