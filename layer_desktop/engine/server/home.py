"""The engine's own folder: its database, token, state file, log, media and job folders.

A local engine lives below the app's data folder (so it shares the persona store with the app); a
remote one below the data folder of the user it runs as.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from layer_desktop.paths import app_paths
from layer_desktop.settings import write_atomic

TOKEN_ENV = "LAYER_ENGINE_TOKEN"


@dataclass(frozen=True)
class EngineHome:
    root: Path

    @classmethod
    def default(cls) -> EngineHome:
        return cls(app_paths().data_dir / "engine")

    @property
    def database(self) -> Path:
        return self.root / "engine.sqlite3"

    @property
    def token_file(self) -> Path:
        return self.root / "token"

    @property
    def state_file(self) -> Path:
        return self.root / "state.json"

    @property
    def log_file(self) -> Path:
        return self.root / "logs" / "engine.log"

    @property
    def media_dir(self) -> Path:
        return self.root / "media"

    @property
    def uploads_dir(self) -> Path:
        return self.root / "uploads"

    @property
    def jobs_dir(self) -> Path:
        return self.root / "jobs"

    def ensure(self) -> EngineHome:
        for d in (self.root, self.log_file.parent, self.media_dir, self.uploads_dir, self.jobs_dir):
            d.mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o700)
        return self

    def read_state(self) -> dict[str, Any] | None:
        """The running engine's state (host, port, pid, version), or None when none is running."""
        try:
            data: dict[str, Any] = json.loads(self.state_file.read_text(encoding="utf-8"))
            return data
        except (OSError, ValueError):
            return None

    def read_token(self) -> str:
        return self.token_file.read_text(encoding="utf-8").strip()


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by the owner only (0600), atomically: ``write_atomic``'s
    temporary file comes from ``mkstemp``, which is created 0600, and the rename keeps the mode."""
    write_atomic(path, text.encode())


def new_token() -> str:
    return secrets.token_urlsafe(32)
