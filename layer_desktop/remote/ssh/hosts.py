"""Host profiles: where a GPU box is and how to log in. Stored in ``<config>/hosts.json``; the key's
passphrase lives only in the keyring (``ssh-host:NAME``), never in the file."""

from __future__ import annotations

import json
import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from layer_desktop.errors import HostNotFoundError, InputError
from layer_desktop.paths import app_paths
from layer_desktop.settings import write_atomic

DEFAULT_WORK_DIR = "layer-engine"  # relative: below the remote user's home
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class HostProfile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    host: str
    port: int = Field(default=22, ge=1, le=65535)
    user: str = "root"
    key_file: str | None = None
    provider: str | None = None
    instance_id: str | None = None
    work_dir: str = DEFAULT_WORK_DIR
    idle_stop_minutes: float = Field(default=30.0, ge=0)  # 0: never
    max_lifetime_hours: float = Field(default=0.0, ge=0)  # 0: no limit

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError("use letters, digits, '.', '_' or '-' (at most 64)")
        return value

    @property
    def host_id(self) -> str:
        """The known_hosts key: ``[host]:port``, plus ``/instance`` when the provider names one (a box
        rented again at the same address is another machine with another key)."""
        base = f"[{self.host}]:{self.port}"
        return f"{base}/{self.instance_id}" if self.instance_id else base

    @property
    def passphrase_secret(self) -> str:
        return f"ssh-host:{self.name}"


def hosts_file() -> Path:
    return app_paths().config_dir / "hosts.json"


class HostStore:
    """The host profiles, by name."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or hosts_file()

    def all(self) -> list[HostProfile]:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except ValueError as exc:
            raise InputError(f"The host list {self.path} is damaged: {exc}.", path=self.path) from exc
        try:
            return [HostProfile.model_validate(h) for h in raw.get("hosts", [])]
        except ValidationError as exc:
            raise InputError(f"The host list {self.path} has a bad entry: {exc}.", path=self.path) from exc

    def get(self, name: str) -> HostProfile:
        for profile in self.all():
            if profile.name == name:
                return profile
        raise HostNotFoundError(f"No host named '{name}'.")

    def put(self, profile: HostProfile) -> None:
        others = [h for h in self.all() if h.name != profile.name]
        self._write([*others, profile])

    def remove(self, name: str) -> HostProfile:
        profile = self.get(name)
        self._write([h for h in self.all() if h.name != name])
        return profile

    def _write(self, profiles: list[HostProfile]) -> None:
        data = {"hosts": [p.model_dump() for p in sorted(profiles, key=lambda p: p.name)]}
        write_atomic(self.path, json.dumps(data, indent=2).encode())
