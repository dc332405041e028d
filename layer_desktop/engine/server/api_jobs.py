"""Jobs: submit, list, get, cancel, re-render a range, events (SSE, resumable), records, result (Range)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, StreamingResponse

from layer_desktop.engine.server.api_system import service_of
from layer_desktop.engine.server.jobstore import JobStore
from layer_desktop.engine.server.schemas import TERMINAL, JobInfo, JobRequest, RerenderRequest, TalkRequest

router = APIRouter()

POLL_S = 0.1
KEEPALIVE_S = 10.0


@router.post("/jobs", response_model=JobInfo, status_code=202)
def submit(request: Request, body: JobRequest) -> JobInfo:
    return service_of(request).runner.submit(body)


@router.post("/talk-jobs", response_model=JobInfo, status_code=202)
def submit_talk(request: Request, body: TalkRequest) -> JobInfo:
    """A talking head (photo or persona + script or recording) → a video; followed like any job."""
    return service_of(request).runner.submit_talk(body)


@router.get("/jobs", response_model=list[JobInfo])
def list_jobs(request: Request) -> list[JobInfo]:
    return service_of(request).store.jobs()


@router.get("/jobs/{job_id}", response_model=JobInfo)
def get_job(request: Request, job_id: str) -> JobInfo:
    return service_of(request).runner.job(job_id)


@router.post("/jobs/{job_id}/cancel", response_model=JobInfo)
def cancel(request: Request, job_id: str) -> JobInfo:
    return service_of(request).runner.cancel(job_id)


@router.post("/jobs/{job_id}/rerender", response_model=JobInfo, status_code=202)
def rerender(request: Request, job_id: str, body: RerenderRequest) -> JobInfo:
    """Re-render frames ``first``..``last`` with ``changes``; only their chunks are encoded again."""
    return service_of(request).runner.rerender(job_id, body)


@router.get("/jobs/{job_id}/records")
def records(request: Request, job_id: str) -> list[dict[str, Any]]:
    """Every frame's review record (faces, track, confidence, flags, ms per stage)."""
    return service_of(request).runner.records(job_id)


@router.get(
    "/jobs/{job_id}/result",
    response_class=FileResponse,
    responses={200: {"content": {"video/mp4": {}}}, 206: {"content": {"video/mp4": {}}}},
)
def result(request: Request, job_id: str) -> FileResponse:
    """The finished video; supports ``Range`` (resume a download, seek in a player)."""
    s = service_of(request)
    info = s.runner.job(job_id)
    return FileResponse(s.runner.result(job_id), media_type="video/mp4", filename=info.output_name)


@router.get(
    "/jobs/{job_id}/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
def events(
    request: Request,
    job_id: str,
    after: int = Query(default=0, ge=0),
    follow: bool = True,
    last_event_id: str | None = Header(default=None),
) -> StreamingResponse:
    """Server-sent events after event ``after`` (or the ``Last-Event-ID`` header); with ``follow`` the
    stream stays open until the job ends."""
    s = service_of(request)
    s.runner.job(job_id)  # 404 before the stream starts
    if last_event_id is not None and last_event_id.isdigit():
        after = max(after, int(last_event_id))
    stream = _event_stream(request, s.store, job_id, after, follow)
    return StreamingResponse(stream, media_type="text/event-stream", headers={"Cache-Control": "no-store"})


async def _event_stream(
    request: Request, store: JobStore, job_id: str, after: int, follow: bool
) -> AsyncIterator[str]:
    last, quiet_since = after, time.monotonic()
    while True:
        batch = await run_in_threadpool(store.events, job_id, last)
        for event in batch:
            yield f"id: {event.id}\nevent: {event.type}\ndata: {event.model_dump_json()}\n\n"
            last = event.id
        if batch:
            quiet_since = time.monotonic()
            continue
        info = await run_in_threadpool(store.job, job_id)
        if not follow or (info.state in TERMINAL and last >= info.last_event):
            return
        if await request.is_disconnected():
            return
        if time.monotonic() - quiet_since > KEEPALIVE_S:
            yield ": keepalive\n\n"
            quiet_since = time.monotonic()
        await asyncio.sleep(POLL_S)
