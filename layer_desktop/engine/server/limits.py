"""How much the engine accepts per request. The app's middleware enforces these on every body, by
Content-Length and by the bytes as they arrive (``app._body_limit`` reads them at each request)."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request

MAX_BODY_BYTES = 1024**2  # JSON requests
MAX_CHUNK_BYTES = 64 * 1024**2  # one upload PUT
MAX_BUNDLE_BYTES = 512 * 1024**2  # a persona bundle (photos + voice samples)
MAX_UPLOAD_BYTES = 200 * 1024**3  # one media file; a 4K hour at a high bitrate fits


async def receive_body(request: Request, path: Path) -> int:
    """Stream the body into ``path`` (the middleware has already capped its size); returns its size."""
    size = 0
    with path.open("wb") as fh:
        async for chunk in request.stream():
            size += len(chunk)
            fh.write(chunk)
    return size
