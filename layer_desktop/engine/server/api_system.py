"""Health, capabilities, personas (synced from the client's store as bundles) and the frame preview."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool

from layer_desktop import __version__
from layer_desktop.engine.personas import Persona, import_persona
from layer_desktop.engine.server.capabilities import capabilities
from layer_desktop.engine.server.limits import receive_body
from layer_desktop.engine.server.schemas import Capabilities, Health, PersonaSummary, PreviewRequest
from layer_desktop.engine.server.service import EngineService
from layer_desktop.errors import LayerError

router = APIRouter()


def service_of(request: Request) -> EngineService:
    service: EngineService = request.app.state.service
    return service


@router.get("/health", response_model=Health)
def health() -> Health:
    return Health(status="ok", version=__version__)


@router.get("/capabilities", response_model=Capabilities)
def get_capabilities(request: Request) -> Capabilities:
    s = service_of(request)
    return capabilities(s.models, [str(r) for r in s.media.allowed_roots])


def summary(p: Persona) -> PersonaSummary:
    return PersonaSummary(
        id=p.id,
        name=p.name,
        faces=len(p.faces),
        voice_samples=len(p.voices),
        consent=bool(p.consent.given_by),
        updated_at=p.updated_at,
    )


@router.get("/personas", response_model=list[PersonaSummary])
def list_personas(request: Request) -> list[PersonaSummary]:
    return [summary(p) for p in service_of(request).personas.list()]


@router.post(
    "/personas/bundle",
    response_model=PersonaSummary,
    openapi_extra={
        "requestBody": {
            "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
            "required": True,
        }
    },
)
async def import_bundle(request: Request) -> PersonaSummary:
    """Import (or update) a persona from a ``.layerpersona`` bundle sent as the request body."""
    s = service_of(request)
    with tempfile.TemporaryDirectory(dir=s.home.root) as tmp:
        path = Path(tmp) / "upload.layerpersona"
        await receive_body(request, path)
        try:
            result = await run_in_threadpool(import_persona, s.personas, path)
        except LayerError as exc:  # the message names the engine's temporary file: not the client's business
            exc.message = exc.message.replace(str(path), "the persona bundle")
            raise
    return summary(result.persona)


@router.post("/preview", responses={200: {"content": {"image/jpeg": {}, "image/png": {}}}})
async def preview(request: Request, body: PreviewRequest) -> Response:
    """One frame with the persona applied (cached by media, frame and settings)."""
    s = service_of(request)
    path = await run_in_threadpool(s.media.path, body.media)
    loop = asyncio.get_running_loop()
    data, media_type = await loop.run_in_executor(s.preview_lane, s.previews.render, path, body)
    return Response(content=data, media_type=media_type, headers={"Cache-Control": "no-store"})
