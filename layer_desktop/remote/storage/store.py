"""The small interface every storage service is used through, and what an upload needs."""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from layer_desktop.remote.storage.progress import ProgressMeter
from layer_desktop.remote.storage.records import ResumeState

SHA256_METADATA = "sha256"  # x-amz-meta-sha256 on S3/R2, metadata["sha256"] on GCS


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    sha256: str | None  # from the object's metadata; None when it has none
    generation: int | None = None  # GCS only


@dataclass(frozen=True)
class UploadRequest:
    path: Path
    key: str
    size: int
    sha256: str
    content_type: str
    meter: ProgressMeter
    cancel: threading.Event
    overwrite_generation: int | None = None  # GCS: replace exactly this generation (else create-only)


class ResumeStore(Protocol):
    """Where the state of an interrupted upload is kept (``PublishDb``)."""

    def load_upload(self, destination: str, bucket: str, key: str, sha256: str) -> ResumeState | None: ...

    def save_upload(self, state: ResumeState) -> None: ...

    def add_part(self, state: ResumeState, number: int, etag: str, size: int) -> None: ...

    def clear_upload(self, state: ResumeState) -> None: ...


class ObjectStore(Protocol):
    """One bucket at one service. Methods raise ``PublishError`` subclasses, never a secret."""

    destination: str
    bucket: str

    def head(self, key: str) -> ObjectInfo | None: ...

    def upload(self, request: UploadRequest) -> None: ...

    def put_bytes(self, key: str, data: bytes) -> None: ...

    def get_bytes(self, key: str) -> bytes: ...

    def delete(self, key: str) -> None: ...

    def signed_url(self, key: str, expires: dt.timedelta) -> str: ...
