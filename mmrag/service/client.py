"""``mmrag search --server URL``: ask a running ``mmrag serve`` instead of loading the store and models.

The standard library's ``urllib`` and nothing else: this is the path that must
start in milliseconds, and it needs one GET with a bearer header and a bounded
wait, which a client library would only add import time to.
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

SERVER_ENV = "MMRAG_SERVER"  # the CLI's --server default
TOKEN_ENV = "MMRAG_SERVER_TOKEN"  # the bearer token a server requires and the CLI sends
TIMEOUT_S = 60.0  # a first hybrid query on a cold server loads its model; later ones take milliseconds
MAX_RESPONSE_BYTES = 64 * 1024 * 1024  # k <= 50 hits of bounded text: far below this


class ServerError(MmragError):
    """The server refused the request, or could not be reached; the message says which and what to do."""


def check_url(url: str) -> str:
    """``url`` without a trailing slash, refused unless it is ``http(s)://host[:port][/prefix]``."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise InvalidArgument(f"--server {url!r}: expected the address of `mmrag serve`, e.g. http://127.0.0.1:8765")
    return url.rstrip("/")


def remote_search(
    url: str, query: str, k: int, mode: str, filters: Sequence[str], token: str | None = None,
    timeout: float = TIMEOUT_S,
) -> list[dict[str, Any]]:
    """The hits ``GET {url}/search`` returns (the ``mmrag search --json`` contract).

    ``filters`` are the CLI's ``key=value`` strings: the server parses them as the CLI does."""
    base = check_url(url)
    params = [("q", query), ("k", str(k)), ("mode", mode), *(("filter", f) for f in filters)]
    request = urllib.request.Request(f"{base}/search?{urllib.parse.urlencode(params)}", headers={"Accept": "application/json"})
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read(MAX_RESPONSE_BYTES + 1)
    except urllib.error.HTTPError as exc:
        raise ServerError(f"the server at {base} refused the search ({exc.code}): {_message(exc)}") from None
    except (urllib.error.URLError, ConnectionError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, (TimeoutError, socket.timeout)):
            raise ServerError(f"the server at {base} did not answer within {timeout:.0f} s") from None
        raise ServerError(
            f"no mmrag server answers at {base} ({reason}): start one with `mmrag serve`, or search without --server"
        ) from None
    except TimeoutError:
        raise ServerError(f"the server at {base} did not answer within {timeout:.0f} s") from None
    if len(body) > MAX_RESPONSE_BYTES:
        raise ServerError(f"the server at {base} sent more than {MAX_RESPONSE_BYTES // 2**20} MB for one search")
    try:
        hits = json.loads(body)
    except ValueError:
        hits = None
    if not isinstance(hits, list):
        raise ServerError(f"{base}/search did not return a list of hits: is this address an `mmrag serve`?")
    return hits


def _message(exc: urllib.error.HTTPError) -> str:
    """The ``{"error": ...}`` sentence of an mmrag server, else the HTTP reason."""
    try:
        return str(json.loads(exc.read(65536))["error"])
    except (ValueError, KeyError, TypeError, OSError):
        return str(exc.reason)
