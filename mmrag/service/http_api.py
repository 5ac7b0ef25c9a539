"""``mmrag serve``: the warm index as a JSON API (Starlette).

``GET /search?q=&k=&mode=&filter=key=value`` returns the hit contract (``filter``
repeats; a value starting with ``{`` is a JSON filter object, any the core takes:
``filter={"page": {"$gte": 2}}``),
``/sources``, ``/chunks/{id}`` (the chunk and its neighbours) and
``/chunks/{id}/image`` (a JPEG thumbnail, rendered on first use and cached).
``GET /`` is the search page (``mmrag.service.page``) and ``/files/{id}`` the file a
chunk came from (only sources the index holds), which its moment links open at ``#t=``.
``POST /ingest`` exists only with ``--allow-ingest``. With a token, every request
needs ``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import hmac
import json
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs

from mmrag.errors import FilterError, MmragError
from mmrag.service.core import MAX_IMAGE_SIDE, MAX_K, MIN_IMAGE_SIDE, NotFound, Service, out_of_range
from mmrag.service.page import render_page
from mmrag.stores.filters import And, Filter, parse_cli_filters, to_filter

try:
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
    from starlette.routing import Route
except ImportError as exc:  # pragma: no cover - installs without the extra
    from mmrag.errors import MissingDependencyError

    raise MissingDependencyError("starlette", "agents", "mmrag serve") from exc

THUMBNAIL_SIDE = 320
PAGE_HITS = 10
COOKIE = "mmrag_token"


def query_filters(values: list[str]) -> Filter | None:
    """The ``filter`` query parameters as one filter: ``key=value`` pairs as the CLI
    reads them (a repeated key is "any of"), JSON objects as the core's dict form;
    all of them must hold. Errors name the parameter, not the CLI's option."""
    parts: list[Filter] = []
    for raw in values:
        if raw.lstrip().startswith("{"):
            try:
                parsed = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise FilterError(f"query parameter filter {raw!r}: not a JSON object ({exc.msg})") from None
            f = to_filter(parsed)
            parts.extend([f] if f is not None else [])
    pairs = to_filter(parse_cli_filters([v for v in values if not v.lstrip().startswith("{")], option="query parameter filter"))
    parts = ([pairs] if pairs is not None else []) + parts
    return None if not parts else parts[0] if len(parts) == 1 else And(*parts)


def build_app(service: Service, token: str | None = None) -> Starlette:
    """The ASGI app; ``token``: the bearer token every request must carry (None: no auth)."""

    async def call(fn, *args: Any) -> Any:
        try:
            return await run_in_threadpool(fn, *args)
        except NotFound as exc:
            raise _Refused(404, str(exc)) from exc
        except (MmragError, ValueError) as exc:
            raise _Refused(400, str(exc)) from exc

    async def search(request: Request) -> Response:
        q = request.query_params
        k = q.get("k", "10")
        if not k.isdigit():
            return _error(400, str(out_of_range("k", k, 1, MAX_K)))
        try:
            filters = query_filters(q.getlist("filter"))
        except MmragError as exc:
            return _error(400, str(exc))
        hits = await call(service.search, q.get("q", ""), int(k), q.get("mode", "hybrid"), filters)
        return JSONResponse(hits)

    async def sources(request: Request) -> Response:
        return JSONResponse(await call(service.sources))

    async def chunk(request: Request) -> Response:
        return JSONResponse(await call(service.fetch, request.path_params["chunk_id"]))

    async def image(request: Request) -> Response:
        side = request.query_params.get("side", str(THUMBNAIL_SIDE))
        if not side.isdigit():
            return _error(400, str(out_of_range("side", side, MIN_IMAGE_SIDE, MAX_IMAGE_SIDE)))
        data = await call(service.image, request.path_params["chunk_id"], int(side))
        return Response(data, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"})

    async def page(request: Request) -> Response:
        q = request.query_params
        query, mode, modality, extra = q.get("q", ""), q.get("mode", "hybrid"), q.get("modality", ""), q.get("filter", "")
        hits, error = None, None
        if query.strip():
            try:
                filters = query_filters([f for f in (f"modality={modality}" if modality else "", extra.strip()) if f])
                hits = await call(service.search, query, PAGE_HITS, mode, filters)
            except (MmragError, _Refused) as exc:
                error = getattr(exc, "message", str(exc))
        return HTMLResponse(render_page(query, mode, modality, extra, hits, error), status_code=400 if error else 200)

    async def source_file(request: Request) -> Response:
        path = await call(service.source_path, request.path_params["chunk_id"])
        return FileResponse(path, headers={"Cache-Control": "private, max-age=3600"})

    async def ingest(request: Request) -> Response:
        body = await request.json()
        paths = body.get("paths") if isinstance(body, dict) else None
        return JSONResponse(await call(service.ingest, paths))

    routes = [
        Route("/", page),
        Route("/files/{chunk_id}", source_file),
        Route("/search", search),
        Route("/sources", sources),
        Route("/chunks/{chunk_id}", chunk),
        Route("/chunks/{chunk_id}/image", image),
    ]
    if not service.read_only:
        routes.append(Route("/ingest", ingest, methods=["POST"]))
    app = Starlette(routes=routes, exception_handlers={_Refused: lambda _r, e: _error(e.status, e.message)})
    if token is None:
        return app

    async def guarded(scope, receive, send):  # a bare ASGI wrapper: one header check before any route
        if scope["type"] == "http":
            headers = dict(scope["headers"])
            sent = headers.get(b"authorization", b"").decode("latin-1")
            cookie = SimpleCookie(headers.get(b"cookie", b"").decode("latin-1")).get(COOKIE)
            if hmac.compare_digest(sent, f"Bearer {token}") or (cookie and hmac.compare_digest(cookie.value, token)):
                await app(scope, receive, send)
                return
            given = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token", [""])[0]
            if scope["path"] == "/" and given and hmac.compare_digest(given, token):
                # the search page in a browser: /?token=... once, then a cookie (images and links carry no header)
                signed_in = RedirectResponse("/", status_code=303)
                signed_in.set_cookie(COOKIE, token, httponly=True, samesite="strict")
                await signed_in(scope, receive, send)
                return
            await _error(401, "missing or wrong bearer token (Authorization: Bearer $MMRAG_SERVER_TOKEN; "
                              "in a browser open /?token=...)")(scope, receive, send)
            return
        await app(scope, receive, send)

    return guarded


class _Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)
