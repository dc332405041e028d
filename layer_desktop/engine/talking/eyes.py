"""Blinks on a still: each eye's upper lid is brought down onto the lower one by a piecewise-affine warp
on the Face Mesh (the lid skin above stretches over the eye), blended in with a soft mask that is 0
outside a ring around the eye, so nothing else changes."""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from layer_desktop.engine.faces.topology import LEFT_EYE, RIGHT_EYE
from layer_desktop.engine.faces.types import ImageRGB
from layer_desktop.engine.swap.warp import Rect, triangulate, warp_mesh

F64 = NDArray[np.float64]
LID_MEET = 0.9  # of the gap: the upper lid comes this far down, the lower lid the rest of the way up
SKIN_ABOVE = 0.3  # eye widths: lid-skin points this far above the upper lid follow it part of the way
SKIN_FOLLOW = 0.15


def _lids(ring: tuple[int, ...]) -> tuple[list[int], list[int], tuple[int, int]]:
    """Upper lid (without corners), lower lid (without corners) and the two corners of an eye ring."""
    corners = (ring[0], ring[8])
    return list(ring[9:]), list(ring[1:8]), corners


def _under(points: F64, lower: F64, axis_x: F64, axis_y: F64) -> F64:
    """For each point, the lower-lid polyline's position straight below it (along the eye's y axis)."""
    px, lx = points @ axis_x, lower @ axis_x
    ly = lower @ axis_y
    order = np.argsort(lx)
    y = np.interp(px, lx[order], ly[order])
    return np.asarray(px[:, None] * axis_x + y[:, None] * axis_y, np.float64)


def _controls(lm: F64, ring: tuple[int, ...], amount: float) -> tuple[F64, F64, float]:
    upper_ids, lower_ids, (c0, c1) = _lids(ring)
    corner_a, corner_b = lm[c0], lm[c1]
    width = max(float(np.linalg.norm(corner_b - corner_a)), 1.0)
    ax = (corner_b - corner_a) / width
    ay = np.array([-ax[1], ax[0]])
    centre = (corner_a + corner_b) / 2.0
    if float((lm[upper_ids].mean(axis=0) - centre) @ ay) > 0:  # y points down the face
        ay = -ay
    upper, lower = lm[upper_ids], lm[lower_ids]
    below = _under(upper, np.vstack([corner_a, lower, corner_b]), ax, ay)
    gap = below - upper
    new_upper = upper + amount * LID_MEET * gap
    above = _under(lower, np.vstack([corner_a, upper, corner_b]), ax, ay)
    new_lower = lower + amount * (1.0 - LID_MEET) * (above - lower)
    skin = upper - ay * SKIN_ABOVE * width
    new_skin = skin + SKIN_FOLLOW * amount * LID_MEET * gap
    angles = np.linspace(0, 2 * np.pi, 14, endpoint=False)
    ring_pts = (
        centre + np.outer(np.cos(angles), ax) * width * 1.05 + np.outer(np.sin(angles), ay) * width * 0.9
    )
    src = np.vstack([upper, lower, skin, corner_a, corner_b, ring_pts])
    dst = np.vstack([new_upper, new_lower, new_skin, corner_a, corner_b, ring_pts])
    return src, dst, width


def _mask(ring_pts: F64, rect: Rect, feather: float) -> NDArray[np.float32]:
    region = np.zeros((rect.height, rect.width), np.uint8)
    hull = cv2.convexHull((ring_pts - (rect.x0, rect.y0)).astype(np.float32)).reshape(-1, 2)
    cv2.fillPoly(region, [np.round(hull).astype(np.int32)], 255)
    depth = cv2.distanceTransform(region, cv2.DIST_L2, 3).astype(np.float32)
    x = np.clip(depth / max(feather, 1.0), 0.0, 1.0)
    return np.asarray(x * x * (3.0 - 2.0 * x), np.float32)


def close_eyes(rgb: ImageRGB, landmarks: NDArray[np.floating], amount: float) -> bool:
    """Close both eyes of the face with ``landmarks`` (468 points) in ``rgb`` by ``amount`` (0 open ..
    1 shut), in place. False when nothing was changed (open, or eyes too small)."""
    if amount <= 0.01:
        return False
    lm = np.asarray(landmarks, np.float64)[:, :2]
    h, w = rgb.shape[:2]
    changed = False
    for ring in (RIGHT_EYE, LEFT_EYE):
        src, dst, width = _controls(lm, ring, float(np.clip(amount, 0.0, 1.0)))
        if width < 6.0:
            continue
        rect = Rect.around(np.vstack([src, dst]), 2.0, w, h)
        if rect.empty:
            continue
        warped, covered = warp_mesh(rgb, src, dst, triangulate(src), rect)
        mask = _mask(src[-14:], rect, 0.35 * width) * covered.astype(np.float32)
        view = rgb[rect.slices()]
        blended = (
            view.astype(np.float32) * (1.0 - mask[..., None]) + warped.astype(np.float32) * mask[..., None]
        )
        view[:] = np.clip(np.rint(blended), 0, 255).astype(np.uint8)
        changed = True
    return changed
