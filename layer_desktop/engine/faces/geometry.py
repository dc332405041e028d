"""Small geometry helpers: boxes, rotated crops, affine maps, letterboxing."""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from layer_desktop.engine.faces.types import BBox, FloatArray, ImageRGB

Affine = NDArray[np.float64]  # 2x3, maps frame pixels -> crop pixels


@dataclass(frozen=True)
class RotatedRect:
    """A square-ish region of a frame: centre, size (frame pixels) and angle (radians).

    ``angle`` is the direction of the rect's x axis in image coordinates (y down), so a face whose eye
    line slopes down to the right has a positive angle.
    """

    cx: float
    cy: float
    width: float
    height: float
    angle: float = 0.0

    def scaled(self, factor: float, *, square: bool = True) -> RotatedRect:
        """The rect enlarged by ``factor``; ``square`` uses the longer side for both."""
        w, h = self.width * factor, self.height * factor
        if square:
            w = h = max(w, h)
        return RotatedRect(self.cx, self.cy, w, h, self.angle)

    def to_crop(self, out_w: int, out_h: int) -> Affine:
        """The affine that maps frame pixels into an ``out_w`` x ``out_h`` crop of this rect."""
        c, s = math.cos(self.angle), math.sin(self.angle)
        kx, ky = out_w / self.width, out_h / self.height
        return np.array(
            [
                [c * kx, s * kx, -(c * self.cx + s * self.cy) * kx + out_w / 2.0],
                [-s * ky, c * ky, -(-s * self.cx + c * self.cy) * ky + out_h / 2.0],
            ],
            dtype=np.float64,
        )


def rect_from_points(points: FloatArray, angle: float) -> RotatedRect:
    """The tightest rect at ``angle`` around ``points`` (n, >=2)."""
    c, s = math.cos(angle), math.sin(angle)
    xy = points[:, :2].astype(np.float64)
    u = xy[:, 0] * c + xy[:, 1] * s
    v = -xy[:, 0] * s + xy[:, 1] * c
    uc, vc = (u.min() + u.max()) / 2.0, (v.min() + v.max()) / 2.0
    cx, cy = uc * c - vc * s, uc * s + vc * c
    return RotatedRect(float(cx), float(cy), float(u.max() - u.min()), float(v.max() - v.min()), angle)


def angle_between(p0: NDArray[np.floating], p1: NDArray[np.floating]) -> float:
    """Direction (radians, image coordinates) of the vector from ``p0`` to ``p1``."""
    return math.atan2(float(p1[1] - p0[1]), float(p1[0] - p0[0]))


def warp(rgb: ImageRGB, m: Affine, out_w: int, out_h: int) -> ImageRGB:
    """Crop with an affine (bilinear, black outside the frame)."""
    out = cv2.warpAffine(rgb, m, (out_w, out_h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    return np.asarray(out, dtype=np.uint8)


def invert_affine(m: Affine) -> Affine:
    """The inverse of a 2x3 affine."""
    return np.asarray(cv2.invertAffineTransform(m), dtype=np.float64)


def transform_points(points: NDArray[np.floating], m: Affine) -> FloatArray:
    """Apply a 2x3 affine to the x, y columns of ``points`` (extra columns are kept as they are)."""
    pts = np.asarray(points, dtype=np.float64)
    xy = pts[:, :2] @ m[:, :2].T + m[:, 2]
    out = pts.copy()
    out[:, :2] = xy
    return out.astype(np.float32)


def letterbox(rgb: ImageRGB, size: int) -> tuple[ImageRGB, float]:
    """Scale the frame into a ``size`` square keeping its aspect, padded black right/bottom.

    Returns the square image and the scale (input pixels per frame pixel).
    """
    h, w = rgb.shape[:2]
    scale = size / max(h, w)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    interp = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_LINEAR
    resized = cv2.resize(rgb, (nw, nh), interpolation=interp)
    out = np.zeros((size, size, 3), dtype=np.uint8)
    out[:nh, :nw] = resized
    return out, scale


def bbox_of(points: NDArray[np.floating]) -> BBox:
    """Axis-aligned bounding box of points (n, >=2)."""
    xy = np.asarray(points, dtype=np.float64)[:, :2]
    x0, y0 = xy.min(axis=0)
    x1, y1 = xy.max(axis=0)
    return float(x0), float(y0), float(x1), float(y1)


def iou(a: BBox, b: BBox) -> float:
    """Intersection over union of two boxes (x0, y0, x1, y1)."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def iou_many(box: NDArray[np.floating], boxes: NDArray[np.floating]) -> NDArray[np.float64]:
    """IoU of one box against many (rows x0, y0, x1, y1)."""
    ix = np.clip(np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0]), 0, None)
    iy = np.clip(np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1]), 0, None)
    inter = ix * iy
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    union = area + areas - inter
    return np.asarray(np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0), dtype=np.float64)


def clip_bbox(box: BBox, width: int, height: int) -> BBox:
    """The box clipped to the frame."""
    return (
        min(max(box[0], 0.0), float(width)),
        min(max(box[1], 0.0), float(height)),
        min(max(box[2], 0.0), float(width)),
        min(max(box[3], 0.0), float(height)),
    )
