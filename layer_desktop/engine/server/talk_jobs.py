"""Talking-head jobs on the engine: the spec's photo and recording arrive as ``media:<sha256>`` (uploaded
or linked first), its persona by id (synced first); the video is written into the job's folder."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from layer_desktop.engine.personas import PersonaStore
from layer_desktop.engine.server.media import MediaLibrary
from layer_desktop.engine.server.schemas import parse_media_ref
from layer_desktop.engine.talking.render import Progress, TalkReport, render_talk
from layer_desktop.engine.talking.spec import TalkSpec
from layer_desktop.errors import EngineRequestError


def resolve_talk(spec: TalkSpec, media: MediaLibrary, output: Path | None = None) -> TalkSpec:
    """``spec`` with its media references as the engine's own paths (and ``output`` when given).
    Raises ``EngineRequestError`` for a path instead of a reference, or media the engine lacks."""
    if spec.script_file is not None:
        raise EngineRequestError("A talk job carries its script as text, not as a file.", status=400)
    update: dict[str, Any] = {}
    for name in ("photo", "audio"):
        value = getattr(spec, name)
        if value is None:
            continue
        sha = parse_media_ref(value)
        if sha is None:
            raise EngineRequestError(
                f"The spec's {name} must be media:<sha256> (upload it first).", status=400
            )
        update[name] = str(media.path(sha))
    if output is not None:
        update["output"] = str(output)
    return spec.model_copy(update=update)


def run_talk_job(
    request: dict[str, Any],
    media: MediaLibrary,
    personas: PersonaStore,
    folder: Path,
    output: Path,
    progress: Progress,
    cancel: threading.Event,
) -> TalkReport:
    spec = resolve_talk(TalkSpec.model_validate(request["talk"]), media, output)
    return render_talk(spec, store=personas, progress=progress, cancel=cancel, work_dir=folder / "work")
