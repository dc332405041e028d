"""What the Render dialog chooses, Qt-free: a typed ``RenderChoice`` and the engine spec it makes.

The choice is checked with the engine's own pydantic types (``Output``, ``Voice``, ``Disclosure``,
``LipSyncOptions``, ``TransformSpec``), so the dialog refuses exactly what the engine would refuse. The
range is applied with segments: frames outside the chosen range keep the original picture (the video
keeps its length).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from layer_desktop.engine.lipsync.options import LipSyncOptions
from layer_desktop.engine.pipeline.spec import Disclosure, Output, Segment, TransformSpec, Voice
from layer_desktop.errors import InputError
from layer_desktop.paths import app_paths, resources_dir
from layer_desktop.settings import load_settings
from layer_desktop.ui.project_file import ProjectState

Container = Literal["mp4", "mov", "mkv"]
RenderRange = Literal["whole", "in_out", "segments"]
RANGE_TEXT: dict[str, str] = {
    "whole": "Whole video",
    "in_out": "In → out only (the rest stays original)",
    "segments": "Segments only (the rest stays original)",
}
LOCAL_ENGINE = "local"


class RenderChoice(BaseModel):
    """Everything the Render dialog sets; ``output`` empty means "next to the source"."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    output: str = ""
    container: Container = "mp4"
    output_settings: Output = Output()
    range: RenderRange = "whole"
    engine: str = LOCAL_ENGINE  # "local" or "host:NAME" (a GPU host connected on the Engines page)
    voice: Voice = Voice()
    lipsync: LipSyncOptions = LipSyncOptions()  # off unless chosen: the mouth follows the output's audio
    disclosure: Disclosure = Disclosure()  # the visible mark and the invisible watermark
    face: str = Field(default="auto")


def default_choice() -> RenderChoice:
    """A first render's choice: the encoding and mark of Settings › Output and Disclosure."""
    settings = load_settings(app_paths().settings_file)
    r = settings.render
    return RenderChoice(
        output_settings=Output(codec=r.codec, crf=r.crf, preset=r.preset, hardware=r.hardware_encoder),
        disclosure=Disclosure(visible_mark=settings.visible_ai_mark),
    )


def default_output(source: str | Path, container: str = "mp4") -> Path:
    """``<name>-layer.<container>`` next to the source (in the app's renders folder for the built-in demo
    or a folder we cannot write); an existing file is never reused: the first free ``<name>-layer-2``,
    ``-3``, … is chosen instead, so every render gets its own file name."""
    src = Path(source)
    folder = src.parent
    if folder.resolve() == (resources_dir() / "demo").resolve() or not os.access(folder, os.W_OK):
        folder = app_paths().renders_dir
    first = folder / f"{src.stem}-layer.{container}"
    if not first.exists():
        return first
    n = 2
    while (candidate := folder / f"{src.stem}-layer-{n}.{container}").exists():
        n += 1
    return candidate


def output_path(state: ProjectState, choice: RenderChoice) -> Path:
    """Where this render goes: the chosen path with the container's suffix, or the default."""
    if not state.source:
        raise InputError("Open a video first.", hint="File › Open video… (Ctrl+O), or drop one here.")
    if not choice.output:
        return default_output(state.source, choice.container)
    return Path(choice.output).expanduser().with_suffix(f".{choice.container}")


def range_segments(state: ProjectState, choice: RenderChoice, frame_count: int) -> tuple[Segment, ...]:
    """The project's segments plus "keep original" segments outside the chosen range; raises
    ``InputError`` when the range has nothing in it."""
    last = max(frame_count - 1, 0)
    if choice.range == "whole":
        return state.segments
    if choice.range == "in_out":
        first = state.in_point if state.in_point is not None else 0
        end = state.out_point if state.out_point is not None else last
        if state.in_point is None and state.out_point is None:
            raise InputError(
                "There is no in or out point.", hint="Set them with I and O, or render the whole video."
            )
        keep = [(first, end)]
    else:
        keep = sorted((s.start, s.stop) for s in state.segments if s.enabled)
        if not keep:
            raise InputError(
                "The project has no segments to render.",
                hint="Add one (Ctrl+Shift+A) or render the whole video.",
            )
    return (*state.segments, *_outside(keep, last))


def _outside(keep: list[tuple[int, int]], last: int) -> list[Segment]:
    gaps, cursor = [], 0
    for start, stop in keep:
        if start > cursor:
            gaps.append(Segment(start=cursor, stop=start - 1, enabled=False))
        cursor = max(cursor, stop + 1)
    if cursor <= last:
        gaps.append(Segment(start=cursor, stop=last, enabled=False))
    return gaps


def build_spec(state: ProjectState, choice: RenderChoice, frame_count: int) -> TransformSpec:
    """The engine job for this project and choice; raises ``InputError`` naming the first bad value."""
    spec = state.to_spec(str(output_path(state, choice)))
    try:
        return TransformSpec.model_validate(
            {
                **spec.model_dump(),
                "face": choice.face if choice.face != "auto" else spec.face,
                "segments": [s.model_dump() for s in range_segments(state, choice, frame_count)],
                "output_settings": choice.output_settings.model_dump(),
                "voice": choice.voice.model_dump(),
                "lipsync": choice.lipsync.model_dump(),
                "disclosure": choice.disclosure.model_dump(),
            }
        )
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise InputError(f"Cannot render with {where}: {err['msg']}.", hint="Change that setting.") from None
