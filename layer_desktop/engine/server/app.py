"""The engine's ASGI app: token check, request size limits, one error shape, and the API routers.

Every request must carry ``Authorization: Bearer <token>`` (compared in constant time) — even for
unknown paths, so nothing about the API leaks without it. Errors are ``ErrorBody`` JSON: the
``LayerError`` message, its hint and its class name, which the client turns back into the same error.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from layer_desktop import __version__
from layer_desktop.engine.server import api_jobs, api_media, api_system, limits
from layer_desktop.engine.server.scrub import scrub
from layer_desktop.engine.server.service import EngineService
from layer_desktop.engine.server.timeouts import BodyReadTimeout
from layer_desktop.errors import (
    EngineRequestError,
    InputError,
    LayerError,
    ModelNotFoundError,
    PersonaNotFoundError,
)

log = logging.getLogger(__name__)

API_PREFIX = "/v1"
_SCHEMA_HINT = "Check the request against the engine's OpenAPI schema (/v1/openapi.json)."


def create_app(
    service: EngineService, token: str, on_request: Callable[[str], None] | None = None
) -> FastAPI:
    """The engine app; ``token`` (≥ 16 characters) is required on every request. ``on_request`` is
    called with the path of each authenticated request (the idle watchdog's clock)."""
    if len(token) < 16:
        raise ValueError("the engine token must be at least 16 characters")
    app = FastAPI(
        title="Layer Desktop engine",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        openapi_url=f"{API_PREFIX}/openapi.json",
    )
    app.state.service = service
    expected = f"Bearer {token}".encode()
    touch = on_request or (lambda path: None)
    app.add_middleware(_StreamedBodyCap)  # added first, so it runs inside the token check below
    app.add_middleware(BodyReadTimeout)  # a stalled body: 408, not a worker held for ever

    @app.middleware("http")
    async def guard(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        given = request.headers.get("authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            return _error(401, "Missing or wrong engine token.", "EngineAuthError")
        touch(request.url.path)
        limit = _body_limit(request.url.path, request.method)
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            return _error(
                413,
                f"The request body is larger than this endpoint takes ({limit} bytes).",
                "EngineRequestError",
            )
        return await call_next(request)

    @app.exception_handler(LayerError)
    async def layer_error(request: Request, exc: LayerError) -> JSONResponse:
        status = _status_for(exc)
        if status >= 500:
            log.error("%s %s failed: %s", request.method, request.url.path, exc)
        return _error(status, scrub(exc.message) or "", type(exc).__name__, scrub(exc.hint))

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return _error(
            422,
            f"Bad request: {where}: {first.get('msg')}",
            "EngineRequestError",
            _SCHEMA_HINT,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # unknown paths, wrong methods and unparsable bodies get the same error shape as everything else
        response = _error(exc.status_code, scrub(str(exc.detail)) or "", "EngineRequestError", _SCHEMA_HINT)
        response.headers.update(exc.headers or {})
        return response

    for router in (api_system.router, api_media.router, api_jobs.router):
        app.include_router(router, prefix=API_PREFIX)
    return app


class _StreamedBodyCap:
    """The same limits for bodies sent without Content-Length (chunked), counted as they arrive: the
    token check only sees headers, and FastAPI reads a JSON body whole before validating it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, seen = _body_limit(scope["path"], scope["method"]), 0

        async def capped() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise StarletteHTTPException(
                        413, f"The request body is larger than this endpoint takes ({limit} bytes)."
                    )
            return message

        await self.app(scope, capped, send)


def _body_limit(path: str, method: str) -> int:
    if path.startswith(f"{API_PREFIX}/media/uploads/") or path == f"{API_PREFIX}/personas/bundle":
        large = {"PUT": limits.MAX_CHUNK_BYTES, "POST": limits.MAX_BUNDLE_BYTES}
        return large.get(method, limits.MAX_BODY_BYTES)
    return limits.MAX_BODY_BYTES


def _status_for(exc: LayerError) -> int:
    if isinstance(exc, EngineRequestError):
        return exc.status
    if isinstance(exc, PersonaNotFoundError):
        return 404
    if isinstance(exc, InputError):
        return 400
    if isinstance(exc, ModelNotFoundError):  # asked for a backend whose model this engine lacks
        return 409
    return 500


def _error(status: int, message: str, kind: str, hint: str | None = None) -> JSONResponse:
    body = {"error": message, "hint": hint or "See the engine log for details.", "type": kind}
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, headers=headers)
