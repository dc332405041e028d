"""What every swap backend takes and returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from layer_desktop.engine.faces.types import Face, ImageRGB
from layer_desktop.engine.swap.masks import Mask
from layer_desktop.engine.swap.warp import Rect


@dataclass(frozen=True)
class PersonaFace:
    """One usable photo of the persona, analysed: the image, its face (468 landmarks), quality, pose."""

    rgb: ImageRGB
    face: Face
    quality: float
    pose: tuple[float, float, float]  # yaw, pitch, roll in degrees


@dataclass(frozen=True)
class SwapResult:
    """Where a swap wrote into the frame: the rect, its blend mask, the persona photo used."""

    rect: Rect
    mask: Mask
    reference: int | None = None


class Swapper(Protocol):
    """Replaces ``face`` in ``rgb`` (in place) with the persona's; one instance per worker thread."""

    name: str

    def swap(self, rgb: ImageRGB, face: Face, reference: int | None = None) -> SwapResult: ...


class Enhancer(Protocol):
    """An optional post-stage that restores detail inside the swapped face (e.g. GFPGAN)."""

    name: str

    def enhance(self, rgb: ImageRGB, face: Face, result: SwapResult) -> None: ...


def choose_reference(faces: list[PersonaFace], pose: tuple[float, float, float]) -> int:
    """The persona photo whose head pose is closest to ``pose`` (yaw, pitch), better quality breaking ties."""
    yaw, pitch, _ = pose
    cost = [abs(f.pose[0] - yaw) + abs(f.pose[1] - pitch) - 20.0 * f.quality for f in faces]
    return int(np.argmin(np.asarray(cost)))


def blend_into(frame: ImageRGB, rect: Rect, image: NDArray[np.uint8], mask: Mask) -> None:
    """``frame[rect] = image * mask + frame[rect] * (1 - mask)``, in place; untouched where mask is 0."""
    region = frame[rect.slices()]
    a = mask[..., None]
    mixed = image.astype(np.float32) * a + region.astype(np.float32) * (1.0 - a)
    np.copyto(region, np.clip(mixed + 0.5, 0, 255).astype(np.uint8), where=a > 0)
