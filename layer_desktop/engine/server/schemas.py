"""The engine API's request and response bodies: typed, JSON, the same for every client and placement.

Paths never travel in a request except to ``/media/link`` (checked against the allowed roots): media is
named by its sha256 (``media:<hex>`` inside a ``TransformSpec``), outputs stay in the engine's own job
folders and are downloaded from ``/jobs/{id}/result``.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from layer_desktop.engine.media.domain import refuse_unencodable
from layer_desktop.engine.pipeline.spec import TransformSpec
from layer_desktop.engine.swap.options import SwapOptions
from layer_desktop.engine.talking.spec import TalkSpec

SHA256 = re.compile(r"^[0-9a-f]{64}$")
MEDIA_PREFIX = "media:"
JobState = Literal["queued", "running", "done", "failed", "cancelled"]
TERMINAL: frozenset[str] = frozenset({"done", "failed", "cancelled"})
EventType = Literal["state", "progress", "records", "log", "chunk"]  # chunk: a cluster worker finished one


def media_ref(sha256: str) -> str:
    return MEDIA_PREFIX + sha256


def parse_media_ref(value: str) -> str | None:
    """The sha256 in ``media:<sha256>``, or None when ``value`` is not a media reference."""
    if value.startswith(MEDIA_PREFIX) and SHA256.match(value[len(MEDIA_PREFIX) :]):
        return value[len(MEDIA_PREFIX) :]
    return None


class Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _valid_unicode(cls, data: Any) -> Any:
        # JSON carries lone surrogates ("\ud800"); SQLite, file names and OpenCV cannot take them
        return refuse_unencodable(data)


class ErrorBody(Strict):
    error: str
    hint: str
    type: str


class Health(Strict):
    status: Literal["ok"]
    version: str


class Capabilities(Strict):
    version: str
    python: str
    devices: list[str]  # "cpu", "cuda:0", …
    providers_available: list[str]  # what the ONNX Runtime build offers
    providers_active: list[str]  # what a session actually got (a GPU build falls back to CPU silently)
    provider_fallback: str | None  # why the GPU is not in use, when it is not
    encoder: str
    hardware_encoder_fallback: str | None
    models: list[str]  # model ids present and verified on disk
    backends: dict[str, list[str]]  # stage → backends usable now
    allowed_roots: list[str]  # where /media/link may read (a local engine only)


class UploadStart(Strict):
    sha256: str = Field(pattern=SHA256.pattern)
    size: int = Field(ge=1)
    filename: str = Field(min_length=1, max_length=255)

    @field_validator("filename")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        if "/" in value or "\\" in value or value in (".", "..") or "\x00" in value:
            raise ValueError("filename must be a plain file name, without folders")
        return value


class UploadStatus(Strict):
    upload_id: str
    offset: int  # bytes received so far: the next PUT starts here
    size: int
    complete: bool = False
    media_id: str | None = None  # set when the media is already present (nothing to send)


class LinkRequest(Strict):
    path: str = Field(min_length=1, max_length=4096)


class MediaInfo(Strict):
    media_id: str  # sha256
    size: int
    filename: str
    linked: bool  # read in place from the client's disk (same machine) rather than uploaded


class PersonaSummary(Strict):
    id: str
    name: str
    faces: int
    voice_samples: int
    consent: bool
    updated_at: str = ""  # ISO time of the last edit: a client sends a newer copy again


class JobRequest(Strict):
    """A transform job: ``spec.source`` (and ``spec.audio`` when a file) are ``media:<sha256>``;
    ``spec.output`` only names the download (the engine writes into its own job folder)."""

    spec: TransformSpec


class TalkRequest(Strict):
    """A talking-head job: ``spec.photo``/``spec.audio`` are ``media:<sha256>``, ``spec.persona`` an id on
    the engine, the script is text; ``spec.output`` only names the download."""

    spec: TalkSpec


class RerenderRequest(Strict):
    first: int = Field(ge=0)
    last: int = Field(ge=0)
    changes: dict[str, str] = Field(default_factory=dict, max_length=64)


class JobInfo(Strict):
    job_id: str
    state: JobState
    kind: Literal["transform", "rerender", "talk"]
    created: float
    updated: float
    stage: str | None = None
    done: int = 0
    total: int = 0
    error: str | None = None
    hint: str | None = None
    report: dict[str, Any] | None = None
    output_name: str
    last_event: int = 0


class JobEvent(Strict):
    id: int  # per job, 1, 2, 3, … with no gaps: a client resumes with ``after=<last id seen>``
    job_id: str
    type: EventType
    time: float
    data: dict[str, Any]


class PreviewRequest(Strict):
    """One frame of ``media`` with the persona applied, for the timeline's live preview."""

    media: str = Field(pattern=SHA256.pattern)
    frame: int = Field(ge=0)
    persona: str | None = Field(default=None, max_length=200)  # None: the source frame, untouched
    face: str = Field(default="auto", max_length=64)
    detector: Literal["short", "full"] = "short"
    swap: SwapOptions = SwapOptions()
    visible_mark: bool = True
    format: Literal["jpeg", "png"] = "jpeg"
    max_side: int = Field(default=0, ge=0, le=8192)  # 0: full size
