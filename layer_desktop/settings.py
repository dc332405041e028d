"""Typed user settings with a schema version and migrations.

The file is JSON, written atomically. A file from an older version is migrated step by step
(``MIGRATIONS[n]`` turns version n into n + 1); a file from a *newer* version is refused rather than
silently downgraded. Window geometry lives in ``QSettings``, not here.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from layer_desktop.errors import SettingsError

log = logging.getLogger(__name__)

SCHEMA_VERSION = 3

Device = Literal["auto", "cuda", "cpu"]
VideoCodec = Literal["h264", "hevc"]


class RenderDefaults(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    codec: VideoCodec = "h264"
    crf: int = Field(default=18, ge=0, le=51)
    preset: str = "medium"
    chunk_frames: int = Field(default=60, ge=1)
    hardware_encoder: bool = True


class _DestinationBase(BaseModel):
    """Where `layer publish` uploads to. Only non-secret fields: keys live in the keyring
    (``layer_desktop.remote.storage.credentials`` names them)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    bucket: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{1,221}$")
    # custom domain or r2.dev address; without one, links are presigned URLs with an expiry
    public_base_url: str | None = Field(default=None, pattern=r"^https?://[^\s?#]+$")
    key_template: str = Field(default="{project}/{date}/{id}-{name}", min_length=1)


class R2Destination(_DestinationBase):
    kind: Literal["r2"] = "r2"
    account_id: str = Field(pattern=r"^[0-9a-fA-F]{32}$")
    endpoint_url: str | None = None  # e.g. the EU jurisdiction endpoint; default from account_id


class GcsDestination(_DestinationBase):
    kind: Literal["gcs"] = "gcs"
    auth: Literal["service_account", "hmac"] = "service_account"
    endpoint_url: str | None = None  # an emulator or private endpoint; default Google's


class S3Destination(_DestinationBase):
    kind: Literal["s3"] = "s3"
    endpoint_url: str | None = None  # None = AWS S3
    region: str = "us-east-1"
    addressing_style: Literal["auto", "path", "virtual"] = "path"


DestinationSpec = Annotated[R2Destination | GcsDestination | S3Destination, Field(discriminator="kind")]


class Settings(BaseModel):
    """Everything the user can set, with defaults that work on a fresh install."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: int = SCHEMA_VERSION
    device: Device = "auto"
    render: RenderDefaults = RenderDefaults()
    autosave_seconds: int = Field(default=30, ge=5)
    visible_ai_mark: bool = True
    recent_files: tuple[str, ...] = ()
    destinations: tuple[DestinationSpec, ...] = ()
    last_destination: str | None = None
    # C2PA signing with the user's own certificate chain and private key (PEM paths); unset: this install's
    signing_cert: str | None = None
    signing_key: str | None = None
    # update check: a signed JSON manifest at this URL (None: never checked)
    update_url: str | None = None


def _v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    # v1 kept render options flat at the top level.
    render = {k[len("render_") :]: data.pop(k) for k in list(data) if k.startswith("render_")}
    if render:
        data["render"] = render
    return data


def _v2_to_v3(data: dict[str, Any]) -> dict[str, Any]:
    # v3 adds publish destinations (non-secret fields only) and the one last used.
    data.setdefault("destinations", [])
    data.setdefault("last_destination", None)
    return data


MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _v1_to_v2, 2: _v2_to_v3}


def migrate(data: dict[str, Any]) -> dict[str, Any]:
    """Bring raw settings data up to ``SCHEMA_VERSION``; raises ``SettingsError`` when it cannot."""
    version = int(data.get("schema_version", 1))
    if version > SCHEMA_VERSION:
        raise SettingsError(
            f"The settings file was written by a newer Layer Desktop (schema {version}, this one reads "
            f"up to {SCHEMA_VERSION}).",
            hint="Update Layer Desktop, or move the settings file away to start with defaults.",
        )
    while version < SCHEMA_VERSION:
        step = MIGRATIONS.get(version)
        if step is None:
            raise SettingsError(f"No migration from settings schema {version}.")
        data = step(dict(data))
        version += 1
        data["schema_version"] = version
        log.info("settings migrated to schema %d", version)
    return data


def load_settings(path: Path) -> Settings:
    """Read settings from ``path``; a missing file gives the defaults."""
    if not path.exists():
        return Settings()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(raw, dict):
            raise ValueError("top level is not an object")
        return Settings.model_validate(migrate(raw))
    except SettingsError:
        raise
    except (ValueError, ValidationError) as exc:
        raise SettingsError(f"The settings file {path} cannot be read: {exc}", path=path) from exc


def save_settings(settings: Settings, path: Path) -> None:
    """Write settings atomically (a crash leaves the old file or the new one, never half of one)."""
    write_atomic(path, settings.model_dump_json(indent=2).encode("utf-8"))


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same folder and an atomic rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
