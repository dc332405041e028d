"""``TransformSpec``: persona + video → transformed video, as one typed, JSON-serializable spec.

The same spec runs in-process, in the local engine or on a remote one. Segments cut the video into
frame ranges, each with its own persona and swap settings (or the swap turned off); frames outside
every segment use the spec's own persona and settings.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from layer_desktop.engine.swap.options import SwapOptions
from layer_desktop.errors import InputError

FACE_FORMS = "auto, track:N (a face track, e.g. track:1) or X,Y@FRAME (the face under a point)"
_TRACK = re.compile(r"^track:(\d+)$")
_POINT = re.compile(r"^(\d+(?:\.\d+)?),(\d+(?:\.\d+)?)@(\d+)$")
Corner = Literal["top-left", "top-right", "bottom-left", "bottom-right"]


def parse_face(value: str) -> tuple[str, tuple[float, ...]]:
    """``("auto", ())``, ``("track", (n,))`` or ``("point", (x, y, frame))``; raises ``InputError``."""
    text = value.strip().lower()
    if text == "auto":
        return "auto", ()
    if m := _TRACK.match(text):
        return "track", (float(m.group(1)),)
    if m := _POINT.match(text):
        return "point", (float(m.group(1)), float(m.group(2)), float(m.group(3)))
    raise InputError(f"'{value}' is not a face choice.", hint=f"Use {FACE_FORMS}.")


class Disclosure(BaseModel):
    """What every output says about itself. The visible mark is on unless turned off explicitly."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    visible_mark: bool = True
    text: str = "AI-generated"
    corner: Corner = "bottom-right"
    watermark: bool = True  # the invisible mark in the frames (payload: the job id's hash)


class Output(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    codec: Literal["h264", "hevc"] = "h264"
    crf: int = Field(default=18, ge=0, le=51)
    preset: str = "medium"
    hardware: bool = True
    chunk_frames: int = Field(default=60, ge=1)


class Voice(BaseModel):
    """The audio stage: the persona's voice in place of the speaker's, then loudness-normalised."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = False
    backend: Literal["world", "elevenlabs"] = "world"
    loudness_lufs: float = Field(default=-16.0, ge=-40.0, le=-5.0)


class Segment(BaseModel):
    """Frames ``start`` .. ``stop`` (inclusive) with their own settings; ``enabled=False`` keeps the
    original frames there."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: int = Field(ge=0)
    stop: int = Field(ge=0)
    enabled: bool = True
    persona: str | None = None
    swap: SwapOptions | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Segment:
        if self.stop < self.start:
            raise ValueError(f"segment ends ({self.stop}) before it starts ({self.start})")
        return self


class TransformSpec(BaseModel):
    """Everything a transform job needs; ``persona`` is a persona name or id."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: int = 1
    source: str
    output: str
    persona: str
    face: str = "auto"
    detector: Literal["short", "full"] = "short"
    swap: SwapOptions = SwapOptions()
    segments: tuple[Segment, ...] = ()
    output_settings: Output = Output()
    disclosure: Disclosure = Disclosure()
    audio: str = "source"
    voice: Voice = Voice()

    @field_validator("face")
    @classmethod
    def _face(cls, value: str) -> str:
        parse_face(value)
        return value

    def settings_at(self, frame: int) -> tuple[bool, str, SwapOptions]:
        """(swap on?, persona, options) for ``frame``: the last segment holding it wins."""
        for seg in reversed(self.segments):
            if seg.start <= frame <= seg.stop:
                return seg.enabled, seg.persona or self.persona, seg.swap or self.swap
        return True, self.persona, self.swap

    def with_segment(self, start: int, stop: int, changes: dict[str, str]) -> TransformSpec:
        """A copy with a new segment over ``start..stop`` carrying ``changes`` (``key=value`` from the
        CLI: any swap option, ``enabled`` or ``persona``). Raises ``InputError`` for unknown keys/values."""
        enabled, persona, base = self.settings_at(start)
        swap_fields = set(SwapOptions.model_fields)
        unknown = set(changes) - swap_fields - {"enabled", "persona"}
        if unknown:
            known = ", ".join(sorted(swap_fields | {"enabled", "persona"}))
            raise InputError(f"Unknown setting(s): {', '.join(sorted(unknown))}.", hint=f"Known: {known}.")
        try:
            swap = SwapOptions.model_validate({**base.model_dump(), **_swap_changes(changes, swap_fields)})
        except ValidationError as exc:
            raise InputError(f"Bad setting: {_first_error(exc)}.") from None
        if "enabled" in changes:
            enabled = _as_bool(changes["enabled"])
        segment = Segment(
            start=start, stop=stop, enabled=enabled, persona=changes.get("persona", persona), swap=swap
        )
        return self.model_copy(update={"segments": (*self.segments, segment)})


def _swap_changes(changes: dict[str, str], fields: set[str]) -> dict[str, Any]:
    # whole numbers as ints: pydantic's lax mode turns "0.2" into a float but not "2" into Literal[1, 2, 4]
    return {k: int(v) if v.strip().isdigit() else v for k, v in changes.items() if k in fields}


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    return f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"


def _as_bool(text: str) -> bool:
    if text.lower() in ("1", "true", "yes", "on"):
        return True
    if text.lower() in ("0", "false", "no", "off"):
        return False
    raise InputError(f"'{text}' is not true or false.")
