"""The ``.layer`` project file: a typed, immutable ``ProjectState`` stored as versioned JSON.

Qt-free on purpose: the model, its file format, the recent-projects list and the untitled autosave live
here; ``layer_desktop.ui.project`` wraps them in an undoable document. A file from an older version is
migrated step by step (``MIGRATIONS[n]`` turns version n into n + 1); one from a newer version is refused.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from layer_desktop.engine.pipeline.spec import Segment, TransformSpec
from layer_desktop.errors import InputError
from layer_desktop.paths import app_paths
from layer_desktop.settings import write_atomic

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
SUFFIX = ".layer"
MAX_RECENT = 10
ReviewVerdict = Literal["accepted", "original", "rerendered"]
REVIEW_KEY = re.compile(r"^(\d+)-(\d+)$")

# MIGRATIONS[n] turns a version-n file (as a dict) into version n + 1; none yet.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}


class PublishedLink(BaseModel):
    """One publish of a render: where it went and its link (the full record is in the app database)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    record_id: str
    destination: str
    file: str
    url: str
    sha256: str
    published_at: str


class ProjectState(BaseModel):
    """Everything a project remembers: the video, the persona, its segments and the review so far."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: str | None = None
    persona: str | None = None
    segments: tuple[Segment, ...] = ()
    markers: tuple[int, ...] = ()
    in_point: int | None = Field(default=None, ge=0)
    out_point: int | None = Field(default=None, ge=0)
    job_id: str | None = None
    output: str | None = None
    review: dict[str, ReviewVerdict] = Field(default_factory=dict)  # "start-stop" -> verdict
    current_frame: int = Field(default=0, ge=0)
    compare_mode: str = "processed"  # how the preview compares (the view decides the names)
    face: str = "auto"  # which face is swapped: auto or track:N (clicked in the viewer)
    publishes: tuple[PublishedLink, ...] = ()  # every publish of this project's renders

    def to_spec(self, output: str) -> TransformSpec:
        """The transform job for this project, writing ``output``.

        Raises ``InputError`` when the project has no source video or no persona yet."""
        if not self.source:
            raise InputError("The project has no source video.", hint="Open a video first.")
        if not self.persona:
            raise InputError("The project has no persona.", hint="Choose a persona first.")
        return TransformSpec(
            source=self.source, output=output, persona=self.persona, segments=self.segments, face=self.face
        )


def has_work(state: ProjectState) -> bool:
    """True when the project holds more than an opened video: edits, a render, review or publishes."""
    return bool(
        state.segments or state.markers or state.review or state.output or state.publishes
        or state.in_point is not None or state.out_point is not None or state.face != "auto"
    )  # fmt: skip


def review_key(start: int, stop: int) -> str:
    """The ``review`` key of the frame range ``start..stop``."""
    return f"{start}-{stop}"


def project_bytes(state: ProjectState) -> bytes:
    """The file content for ``state`` (UTF-8 JSON with ``schema_version`` first)."""
    data = {"schema_version": SCHEMA_VERSION, **state.model_dump(mode="json")}
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def save_project(path: str | Path, state: ProjectState) -> None:
    """Write ``state`` to ``path`` atomically (temporary file + rename)."""
    write_atomic(Path(path), project_bytes(state))
    log.debug("project saved to %s", path)


def load_project(path: str | Path) -> ProjectState:
    """Read a ``.layer`` file. Raises ``InputError`` (naming the file) when it is missing, not JSON,
    from a newer Layer Desktop, or holds values that are not a project."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(
            f"Project file {path} not found.", hint="It may have been moved or deleted.", path=path
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"Project file {path} cannot be read: {exc}.", path=path) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"Project file {path} is not valid JSON (line {exc.lineno}).",
            hint="The file is damaged; open its autosave or a backup instead.",
            path=path,
        ) from None
    if not isinstance(data, dict):
        raise InputError(f"Project file {path} is not a Layer project.", path=path)
    data = _migrate(data, path)
    try:
        return ProjectState.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise InputError(
            f"Project file {path} has a bad value at {where}: {err['msg']}.",
            hint="Fix the value in the file or start a new project.",
            path=path,
        ) from None


def _migrate(data: dict[str, Any], path: Path) -> dict[str, Any]:
    version = data.pop("schema_version", None)
    if not isinstance(version, int) or version < 1:
        raise InputError(f"Project file {path} has no valid schema_version.", path=path)
    if version > SCHEMA_VERSION:
        raise InputError(
            f"Project file {path} was written by a newer Layer Desktop (format {version}; "
            f"this one reads up to {SCHEMA_VERSION}).",
            hint="Update Layer Desktop to open it.",
            path=path,
        )
    while version < SCHEMA_VERSION:
        data = MIGRATIONS[version](data)
        version += 1
    return data


# ------------------------------------------------------------------ autosave and recent files
def autosave_file() -> Path:
    """Where an untitled project is autosaved: ``<data_dir>/autosave/untitled.layer``."""
    return app_paths().data_dir / "autosave" / f"untitled{SUFFIX}"


def recover_autosave() -> ProjectState | None:
    """The untitled project left by a previous session (a crash), or None when there is none or it is
    unreadable (logged)."""
    path = autosave_file()
    if not path.is_file():
        return None
    try:
        return load_project(path)
    except InputError as exc:
        log.warning("autosave not recoverable: %s", exc)
        return None


def discard_autosave() -> None:
    """Delete the untitled autosave (after it was recovered, saved elsewhere or declined)."""
    autosave_file().unlink(missing_ok=True)


def _recent_file() -> Path:
    return app_paths().config_dir / "recent.json"


def _read_recent() -> list[Path]:
    path = _recent_file()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return [Path(p) for p in data["paths"] if isinstance(p, str)]
    except FileNotFoundError:
        return []
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("ignoring unreadable recent projects list %s: %s", path, exc)
        return []


def recent_projects() -> list[Path]:
    """Recently opened or saved projects, most recent first; files that no longer exist are dropped."""
    return [p for p in _read_recent() if p.is_file()][:MAX_RECENT]


def remember_recent(path: str | Path) -> list[Path]:
    """Put ``path`` first in the recent list (deduplicated, at most ``MAX_RECENT``); returns the list."""
    first = Path(path).expanduser().resolve()
    paths = [first, *(p for p in recent_projects() if p != first)][:MAX_RECENT]
    data = {"schema_version": 1, "paths": [str(p) for p in paths]}
    write_atomic(_recent_file(), json.dumps(data, indent=2).encode("utf-8"))
    return paths
