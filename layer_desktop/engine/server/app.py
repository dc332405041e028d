"""The engine's ASGI app: every request must carry the engine's token (``Authorization: Bearer …``)."""

from __future__ import annotations

import hmac
import platform
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from layer_desktop import __version__
from layer_desktop.engine.media.encode import OutputSettings, choose_encoder

API_PREFIX = "/v1"


def create_app(token: str) -> FastAPI:
    """The engine app; ``token`` is compared in constant time on every request."""
    if len(token) < 16:
        raise ValueError("the engine token must be at least 16 characters")
    app = FastAPI(title="Layer Desktop engine", version=__version__, docs_url=None, redoc_url=None)
    expected = f"Bearer {token}".encode()

    @app.middleware("http")
    async def check_token(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        given = request.headers.get("authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            return JSONResponse({"error": "missing or wrong engine token"}, status_code=401)
        return await call_next(request)

    @app.get(f"{API_PREFIX}/health")
    def health() -> dict[str, Any]:
        encoder = choose_encoder(OutputSettings())
        return {
            "status": "ok",
            "version": __version__,
            "python": platform.python_version(),
            "encoder": encoder.name,
            "hardware_encoder_fallback": encoder.fallback_reason,
            "onnx_providers": _onnx_providers(),
        }

    return app


def _onnx_providers() -> list[str]:
    import onnxruntime

    return list(onnxruntime.get_available_providers())
