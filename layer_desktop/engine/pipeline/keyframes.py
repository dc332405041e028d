"""Keyframes: a segment's numeric swap settings changing over its frames, interpolated per frame.

A keyframe pins one option to a value at an absolute frame; between two keyframes of the same option the
value is linear in the frame number, before the first and after the last it holds. ``blend`` is how much
of the swapped face is shown (0 = the source, 1 = the full swap), applied after the swap for any backend;
the other options are ``SwapOptions`` fields, rounded so the stages built for them can be reused.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from layer_desktop.engine.swap.options import SwapOptions

KeyframedOption = Literal["blend", "feather", "enhancer_blend"]
KEYFRAMED_BOUNDS: dict[str, tuple[float, float]] = {
    "blend": (0.0, 1.0),
    "feather": (0.0, 0.5),
    "enhancer_blend": (0.0, 1.0),
}
OPTION_STEP = 0.005  # SwapOptions values are rounded to this: stages are cached per distinct options


class Keyframe(BaseModel):
    """``option`` is ``value`` at ``frame`` (an absolute frame number of the video)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    option: KeyframedOption
    frame: int = Field(ge=0)
    value: float = Field(ge=0.0, le=1.0)


def value_at(keyframes: Sequence[Keyframe], option: str, frame: int) -> float | None:
    """The interpolated value of ``option`` at ``frame``, or None when it has no keyframe."""
    points = sorted((k.frame, k.value) for k in keyframes if k.option == option)
    if not points:
        return None
    frames, values = zip(*points, strict=True)
    low, high = KEYFRAMED_BOUNDS[option]
    return float(np.clip(np.interp(frame, frames, values), low, high))


def keyframed(keyframes: Sequence[Keyframe], options: SwapOptions, frame: int) -> tuple[SwapOptions, float]:
    """The options at ``frame`` with their keyframed values, and the blend (1.0 without keyframes)."""
    if not keyframes:
        return options, 1.0
    update: dict[str, float] = {}
    for name in ("feather", "enhancer_blend"):
        value = value_at(keyframes, name, frame)
        if value is not None:
            update[name] = round(round(value / OPTION_STEP) * OPTION_STEP, 4)
    blend = value_at(keyframes, "blend", frame)
    return (options.model_copy(update=update) if update else options), (1.0 if blend is None else blend)


def mix(source: np.ndarray, swapped: np.ndarray, blend: float) -> np.ndarray:
    """``blend`` of the swapped picture over the source (uint8, same shape)."""
    if blend >= 1.0:
        return swapped
    out = source.astype(np.float32) + np.float32(blend) * (swapped.astype(np.float32) - source)
    mixed: np.ndarray = np.clip(np.rint(out), 0, 255).astype(np.uint8)
    return mixed
