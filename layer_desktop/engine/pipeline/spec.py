"""``TransformSpec``: persona + video → transformed video, as one typed, JSON-serializable spec.

The same spec runs in-process, in the local engine or on a remote one. Segments cut the video into
frame ranges, each with its own persona and swap settings (or the swap turned off); frames outside
every segment use the spec's own persona and settings.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from layer_desktop.engine.lipsync.options import LipSyncOptions, segment_lipsync
from layer_desktop.engine.media.domain import (
    CHUNK_FRAMES_MAX,
    CHUNK_FRAMES_MIN,
    CRF_MAX,
    CRF_MIN,
    CRF_RANGE,
    OUTPUT_PATH_MAX,
    Preset,
    output_name_problem,
    refuse_unencodable,
)
from layer_desktop.engine.pipeline.keyframes import Keyframe, keyframed
from layer_desktop.engine.swap.options import SwapOptions
from layer_desktop.errors import InputError

FACE_FORMS = (
    "auto, track:N (a face track, e.g. track:1), X,Y@FRAME (the face under a point) "
    "or like:PHOTO (the face most like the one in a photo)"
)
_TRACK = re.compile(r"^track:(\d+)$")
_POINT = re.compile(r"^(\d+(?:\.\d+)?),(\d+(?:\.\d+)?)@(\d+)$")
MAX_POINT = 65_536  # pixels: beyond any video size FFmpeg encodes
MAX_FRAME = 100_000_000  # frames: > 19 days at 60 fps; checked against the clip when the job starts
Corner = Literal["top-left", "top-right", "bottom-left", "bottom-right"]


def parse_face(value: str) -> tuple[str, tuple[float, ...]]:
    """``("auto", ())``, ``("track", (n,))``, ``("point", (x, y, frame))`` or ``("like", ())`` (the
    reference: ``face_reference``); raises ``InputError``."""
    text = value.strip().lower()
    if text == "auto":
        return "auto", ()
    if m := _TRACK.match(text):
        return "track", (float(m.group(1)),)
    if m := _POINT.match(text):
        x, y, frame = float(m.group(1)), float(m.group(2)), int(m.group(3))
        if max(x, y) > MAX_POINT or frame > MAX_FRAME:
            raise InputError(
                f"'{value}' is out of range.", hint=f"X and Y up to {MAX_POINT}, FRAME up to {MAX_FRAME}."
            )
        return "point", (x, y, float(frame))
    if text.startswith("like:") and face_reference(value):
        return "like", ()
    raise InputError(f"'{value}' is not a face choice.", hint=f"Use {FACE_FORMS}.")


def face_reference(value: str) -> str:
    """The photo path (or persona id) of a ``like:`` face choice; empty for other choices."""
    text = value.strip()
    return text[5:].strip() if text.lower().startswith("like:") else ""


class Disclosure(BaseModel):
    """What every output says about itself. The visible mark and the invisible watermark are on unless
    turned off explicitly."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    visible_mark: bool = True
    text: str = Field(default="AI-generated", max_length=120)
    corner: Corner = "bottom-right"
    # the invisible mark in the frames (payload: the job id's hash; engine/provenance/watermark.py): about
    # one level, PSNR 45 dB on the kit clips; it survives a CRF 28 re-encode, a 50 % scale and a 10 % crop
    watermark: bool = True

    @model_validator(mode="after")
    def _readable_mark(self) -> Disclosure:
        if self.visible_mark and not self.text.strip():
            raise ValueError("the visible mark needs a text (or turn the mark off explicitly)")
        if not all(c.isprintable() for c in self.text):  # OpenCV draws it (and crashes on a surrogate)
            raise ValueError("the mark's text holds control characters or invalid Unicode")
        return self


class Output(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    codec: Literal["h264", "hevc"] = "h264"
    crf: int = Field(default=18, ge=CRF_MIN, le=CRF_MAX)
    preset: Preset = "medium"
    hardware: bool = True
    chunk_frames: int = Field(default=60, ge=CHUNK_FRAMES_MIN, le=CHUNK_FRAMES_MAX)

    @model_validator(mode="after")
    def _crf_for_codec(self) -> Output:
        low, high = CRF_RANGE[self.codec]
        if not low <= self.crf <= high:
            raise ValueError(f"crf {self.crf} is outside {low}-{high} for {self.codec}")
        return self


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
    lipsync: LipSyncOptions | None = None
    keyframes: tuple[Keyframe, ...] = ()  # numeric swap options changing over the segment's frames

    @model_validator(mode="after")
    def _ordered(self) -> Segment:
        if self.stop < self.start:
            raise ValueError(f"segment ends ({self.stop}) before it starts ({self.start})")
        return self


class JobSpec(BaseModel):
    """What every job spec checks: text any file system can hold, and an output name that is safe."""

    @model_validator(mode="before")
    @classmethod
    def _valid_unicode(cls, data: Any) -> Any:
        return refuse_unencodable(data)

    @field_validator("output", check_fields=False)
    @classmethod
    def _output_name(cls, value: str) -> str:
        if (problem := output_name_problem(value)) is not None:
            raise ValueError(problem)
        return value


class TransformSpec(JobSpec):
    """Everything a transform job needs; ``persona`` is a persona name or id."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1] = 1
    source: str = Field(max_length=OUTPUT_PATH_MAX)
    output: str = Field(max_length=OUTPUT_PATH_MAX)
    persona: str
    face: str = "auto"
    detector: Literal["short", "full", "auto"] = "auto"
    swap: SwapOptions = SwapOptions()
    segments: tuple[Segment, ...] = ()
    output_settings: Output = Output()
    disclosure: Disclosure = Disclosure()
    audio: str = "source"
    voice: Voice = Voice()
    lipsync: LipSyncOptions = LipSyncOptions()

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

    def keyframed_at(self, frame: int) -> tuple[SwapOptions, float]:
        """``settings_at``'s options with the segment's keyframes applied at ``frame``, and the blend."""
        _, _, options = self.settings_at(frame)
        for seg in reversed(self.segments):
            if seg.start <= frame <= seg.stop:
                return keyframed(seg.keyframes, options, frame)
        return options, 1.0

    def with_segment(self, start: int, stop: int, changes: dict[str, str]) -> TransformSpec:
        """A copy with a new segment over ``start..stop`` carrying ``changes`` (``key=value`` from the
        CLI: any swap option, ``enabled`` or ``persona``). Raises ``InputError`` for unknown keys/values."""
        enabled, persona, base = self.settings_at(start)
        swap_fields = set(SwapOptions.model_fields)
        unknown = set(changes) - swap_fields - {"enabled", "persona", "lipsync"}
        if unknown:
            known = ", ".join(sorted(swap_fields | {"enabled", "persona", "lipsync"}))
            raise InputError(f"Unknown setting(s): {', '.join(sorted(unknown))}.", hint=f"Known: {known}.")
        try:
            swap = SwapOptions.model_validate({**base.model_dump(), **_swap_changes(changes, swap_fields)})
        except ValidationError as exc:
            raise InputError(f"Bad setting: {_first_error(exc)}.") from None
        if "enabled" in changes:
            enabled = _as_bool(changes["enabled"])
        segment = Segment(
            start=start, stop=stop, enabled=enabled, persona=changes.get("persona", persona), swap=swap,
            lipsync=segment_lipsync(changes.get("lipsync"), self.lipsync),
        )  # fmt: skip
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
