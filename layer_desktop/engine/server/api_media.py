"""Media: resumable upload by sha256 (streamed PUTs at offsets, verified on finish), or a same-machine
file linked in place (only below the engine's allowed roots)."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from layer_desktop.engine.server.api_system import service_of
from layer_desktop.engine.server.media import not_found
from layer_desktop.engine.server.schemas import SHA256, LinkRequest, MediaInfo, UploadStart, UploadStatus

router = APIRouter()
_BYTES = {
    "requestBody": {
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
        "required": True,
    }
}


@router.post("/media/uploads", response_model=UploadStatus)
def start_upload(request: Request, body: UploadStart) -> UploadStatus:
    """Start (or find) the upload of a file with this sha256; ``complete`` when the engine has it."""
    return service_of(request).media.start(body)


@router.get("/media/uploads/{upload_id}", response_model=UploadStatus)
def upload_status(request: Request, upload_id: str) -> UploadStatus:
    return service_of(request).media.status(upload_id)


@router.put("/media/uploads/{upload_id}", response_model=UploadStatus, openapi_extra=_BYTES)
async def upload_chunk(request: Request, upload_id: str, offset: int = Query(ge=0)) -> UploadStatus:
    """Bytes at ``offset`` (must equal the bytes received so far; 409 with the real offset if not),
    read as they arrive and committed every 1 MiB: one request may carry up to ``MAX_CHUNK_BYTES``
    (the app's middleware refuses more), with no round trip per piece. A request cut off keeps what
    arrived; the client asks the status and continues from its offset."""
    media = service_of(request).media
    length = request.headers.get("content-length")
    writer = await run_in_threadpool(media.receive, upload_id, offset, int(length) if length else None)
    if isinstance(writer, UploadStatus):
        return writer
    try:
        try:
            async for piece in request.stream():
                if piece and writer.add(piece):
                    status = await run_in_threadpool(writer.commit)
                    if status.complete:
                        return status  # another request of the same file finished it
        except ClientDisconnect:
            await run_in_threadpool(writer.commit)  # keep what arrived: the client resumes after it
            raise
        except StarletteHTTPException as exc:
            if exc.status_code == 408:  # the body stalled: what arrived is good
                await run_in_threadpool(writer.commit)
            raise
        return await run_in_threadpool(writer.commit)
    finally:
        await run_in_threadpool(writer.close)


@router.post("/media/uploads/{upload_id}/finish", response_model=MediaInfo)
def finish_upload(request: Request, upload_id: str) -> MediaInfo:
    """Verify size and sha256; a mismatch discards the upload (422)."""
    return service_of(request).media.finish(upload_id)


@router.post("/media/link", response_model=MediaInfo)
def link_media(request: Request, body: LinkRequest) -> MediaInfo:
    """Read a file of the engine's own machine in place (403 outside the allowed roots)."""
    return service_of(request).media.link(body.path)


@router.get("/media/{media_id}", response_model=MediaInfo)
def media_info(request: Request, media_id: str) -> MediaInfo:
    info = service_of(request).media.get(media_id) if SHA256.match(media_id) else None
    if info is None:
        raise not_found(f"Media {media_id[:12]}…")
    return info
