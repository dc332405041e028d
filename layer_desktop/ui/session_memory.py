"""What the studio remembers between sessions, Qt-free: the project each video was last edited in
(offered when the video is opened again) and the project open when the app last quit (restored at
start). Both live in ``<config>/session.json``; unreadable files are ignored (logged)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from layer_desktop.paths import app_paths
from layer_desktop.settings import write_atomic

log = logging.getLogger(__name__)

MAX_VIDEOS = 200


def _file() -> Path:
    return app_paths().config_dir / "session.json"


def _read() -> dict[str, Any]:
    try:
        data = json.loads(_file().read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        log.warning("ignoring unreadable session file: %s", exc)
        return {}
    return data if isinstance(data, dict) else {}


def _write(data: dict[str, Any]) -> None:
    _file().parent.mkdir(parents=True, exist_ok=True)
    write_atomic(_file(), json.dumps({**data, "schema_version": 1}, indent=1).encode("utf-8"))


def _key(path: str | Path) -> str:
    return str(Path(path).expanduser().resolve())


def remember_video_project(source: str | Path, project: str | Path) -> None:
    """The project saved for ``source`` (the newest wins; the oldest videos are forgotten first)."""
    data = _read()
    videos = {k: v for k, v in dict(data.get("videos") or {}).items() if k != _key(source)}
    videos[_key(source)] = _key(project)
    data["videos"] = dict(list(videos.items())[-MAX_VIDEOS:])
    _write(data)


def project_for_video(source: str | Path) -> Path | None:
    """The project last saved for ``source`` if it still exists."""
    value = dict(_read().get("videos") or {}).get(_key(source))
    path = Path(value) if isinstance(value, str) else None
    return path if path is not None and path.is_file() else None


def remember_session(project: str | Path | None) -> None:
    """The project open as the app quits (None: an untitled one, restored from its autosave)."""
    data = _read()
    data["last_project"] = _key(project) if project is not None else None
    _write(data)


def last_session_project() -> Path | None:
    """The project open when the app last quit, if it still exists."""
    value = _read().get("last_project")
    path = Path(value) if isinstance(value, str) else None
    return path if path is not None and path.is_file() else None
