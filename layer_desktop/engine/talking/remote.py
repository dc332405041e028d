"""A talking head on an engine service (local child or a GPU box through its tunnel): the photo and
recording are linked or uploaded, the persona synced, a script file sent as its text."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from layer_desktop.engine.client import EngineClient
from layer_desktop.engine.personas import PersonaStore
from layer_desktop.engine.server.schemas import JobInfo, media_ref
from layer_desktop.engine.talking.render import TalkReport
from layer_desktop.engine.talking.spec import TalkSpec
from layer_desktop.engine.talking.speech import script_text
from layer_desktop.errors import ImageError


def submit_talk(client: EngineClient, spec: TalkSpec, store: PersonaStore | None = None) -> JobInfo:
    """Submit a local ``spec`` to the engine behind ``client``. Raises ``ImageError`` for a missing
    photo, ``InputError`` for a bad script file, ``MediaError`` for a missing recording, and the
    engine's refusals (``EngineRequestError``, ``PersonaNotFoundError``)."""
    update: dict[str, Any] = {}
    if spec.photo is not None:
        if not Path(spec.photo).is_file():
            raise ImageError(f"Cannot read the picture {spec.photo}: it does not exist.", path=spec.photo)
        update["photo"] = media_ref(client.ensure_media(spec.photo).media_id)
    if spec.audio is not None:
        update["audio"] = media_ref(client.ensure_media(spec.audio).media_id)
    if spec.script_file is not None:
        update.update(script=script_text(spec), script_file=None)
    if spec.persona is not None:
        update["persona"] = client.sync_persona(store or PersonaStore(), spec.persona).id
    return client.submit_talk(spec.model_copy(update=update))


def report_of(info: JobInfo, output: Path) -> TalkReport:
    """The job's report, naming the downloaded file."""
    data: dict[str, Any] = dict(info.report or {})
    data["output"] = str(output)
    data["notes"] = tuple(data.get("notes", ()))
    return TalkReport(**data)
