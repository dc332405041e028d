"""Blend masks for a swapped face: the face hull with a soft edge, minus the eye openings and the mouth
interior.

Edges are ramps on the distance to the region's border (smoothstep), so the mask is exactly 0 outside
the hull: pixels there are never touched. Masks are float32 in [0, 1], rect-sized.

The eye holes are cut *inside* the lid line (a signed distance, ``eye_grow`` < 0): the persona's lids,
lashes and the skin around the eyes come through, and only the opening (iris, pupil, sclera) stays the
target's, so gaze and blinks are the target's without a ring of the target's own lid skin around them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np
from numpy.typing import NDArray

from layer_desktop.engine.faces.topology import FACE_OVAL, LEFT_EYE, LIPS_INNER, RIGHT_EYE
from layer_desktop.engine.faces.types import ImageRGB
from layer_desktop.engine.swap.warp import Rect, fill_polygon

Mask = NDArray[np.float32]


@dataclass(frozen=True)
class MaskOptions:
    """Soft-edge widths as fractions of the face size; which target parts to keep."""

    feather: float = 0.08
    inset: float = 0.02
    keep_eyes: bool = True
    keep_mouth: bool = True
    hole_feather: float = 0.025
    hole_grow: float = 0.01
    eye_feather: float = 0.02
    eye_grow: float = -0.012  # the eye hole's zero edge, signed: < 0 lies inside the opening


class MaskRefiner(Protocol):
    """A later stage that removes occluders (hands, hair, microphones) from the mask."""

    name: str

    def refine(self, crop: ImageRGB, mask: Mask) -> Mask: ...


def _smoothstep(x: NDArray[np.float32]) -> Mask:
    x = np.clip(x, 0.0, 1.0)
    return np.asarray(x * x * (3.0 - 2.0 * x), dtype=np.float32)


def _inside_distance(region: NDArray[np.uint8]) -> NDArray[np.float32]:
    return np.asarray(cv2.distanceTransform(region, cv2.DIST_L2, 3), dtype=np.float32)


def _polygon(shape: tuple[int, int], points: NDArray[np.floating]) -> NDArray[np.uint8]:
    canvas = np.zeros(shape, dtype=np.uint8)
    fill_polygon(canvas, points, 255)
    return canvas


def _signed_distance(region: NDArray[np.uint8]) -> NDArray[np.float32]:
    """Distance to ``region``'s border: positive outside it, negative inside."""
    return _inside_distance(255 - region) - _inside_distance(region)


def _hole_ramp(
    shape: tuple[int, int], polygons: list[NDArray[np.float64]], grow: float, feather: float
) -> Mask:
    holes = np.zeros(shape, dtype=np.uint8)
    for poly in polygons:
        fill_polygon(holes, poly, 255)
    if not holes.any():
        return np.ones(shape, np.float32)
    return _smoothstep((_signed_distance(holes) - grow) / max(feather, 1.0))


def face_mask(
    landmarks: NDArray[np.floating],
    rect: Rect,
    face_size: float,
    options: MaskOptions = MaskOptions(),
    refiners: Sequence[MaskRefiner] = (),
    crop: ImageRGB | None = None,
) -> Mask:
    """The blend mask of a 468-point face inside ``rect`` (landmarks in frame pixels)."""
    pts = np.asarray(landmarks, dtype=np.float64)[:, :2] - (rect.x0, rect.y0)
    shape = (rect.height, rect.width)
    hull = _polygon(shape, pts[list(FACE_OVAL)])
    depth = _inside_distance(hull) - options.inset * face_size
    mask = _smoothstep(depth / max(options.feather * face_size, 1.0))
    if options.keep_eyes:
        eyes = [pts[list(RIGHT_EYE)], pts[list(LEFT_EYE)]]
        mask *= _hole_ramp(shape, eyes, options.eye_grow * face_size, options.eye_feather * face_size)
    if options.keep_mouth:
        mouth = [pts[list(LIPS_INNER)]]
        mask *= _hole_ramp(shape, mouth, options.hole_grow * face_size, options.hole_feather * face_size)
    for refiner in refiners:
        if crop is None:
            raise ValueError("mask refiners need the frame crop")
        mask = refiner.refine(crop, mask)
    return mask
