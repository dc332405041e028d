"""How much the engine accepts per request, and reading a streamed body under such a cap."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request

from layer_desktop.errors import EngineRequestError

MAX_BODY_BYTES = 1024**2  # JSON requests
MAX_CHUNK_BYTES = 64 * 1024**2  # one upload PUT
MAX_BUNDLE_BYTES = 512 * 1024**2  # a persona bundle (photos + voice samples)
MAX_UPLOAD_BYTES = 200 * 1024**3  # one media file; a 4K hour at a high bitrate fits


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, refusing (413) past ``limit`` bytes even when no Content-Length was sent."""
    parts: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        parts.append(chunk)
    return b"".join(parts)


async def receive_body(request: Request, path: Path, limit: int) -> int:
    """Stream the body into ``path`` (at most ``limit`` bytes); returns its size."""
    size = 0
    with path.open("wb") as fh:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise too_large(limit)
            fh.write(chunk)
    return size


def too_large(limit: int) -> EngineRequestError:
    return EngineRequestError(
        f"The request body is larger than this endpoint takes ({limit} bytes).", status=413
    )
