"""insightface ``2d106det``: 106 2-D landmarks from a face box, on ONNX Runtime.

Input ``[1, 3, 192, 192]`` (a square crop around the box, 1.5x its longer side; raw 0..255 RGB, the
model normalises inside), output ``[1, 212]``: 106 (x, y) in [-1, 1] of the crop.
"""

from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np

from layer_desktop.engine.faces.geometry import (
    RotatedRect,
    bbox_of,
    clip_bbox,
    invert_affine,
    transform_points,
    warp,
)
from layer_desktop.engine.faces.onnx_session import (
    ModelSource,
    check_input,
    open_session,
    run_single,
    to_blob,
)
from layer_desktop.engine.faces.types import Face, ImageRGB

log = logging.getLogger(__name__)

LMK106_SIZE = 192
LMK106_POINTS = 106


class Landmark106:
    """Fits 106 landmarks; for tracking, the crop comes from the previous landmarks' box."""

    name = "2d106det"

    def __init__(
        self, model: ModelSource, *, input_mean: float = 0.0, input_std: float = 1.0, roi_scale: float = 1.5
    ) -> None:
        self.session = open_session(model)
        self.input_name = check_input(self.session, (1, 3, LMK106_SIZE, LMK106_SIZE), "2d106det")
        self.input_mean, self.input_std, self.roi_scale = input_mean, input_std, roi_scale

    def roi(self, face: Face) -> RotatedRect:
        """The square crop for this face (from its landmarks when it has 106 of them)."""
        box = bbox_of(face.landmarks) if face.landmarks is not None and _has_106(face) else face.bbox
        x0, y0, x1, y1 = box
        return RotatedRect((x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0).scaled(self.roi_scale)

    def fit(self, rgb: ImageRGB, face: Face) -> Face | None:
        """The face with 106 landmarks in frame pixels (this model has no presence score)."""
        rect = self.roi(face)
        m = rect.to_crop(LMK106_SIZE, LMK106_SIZE)
        crop = warp(rgb, m, LMK106_SIZE, LMK106_SIZE)
        (pred, *_) = run_single(self.session, self.input_name, to_blob(crop, self.input_mean, self.input_std))
        pts = pred.reshape(-1, 2)[:LMK106_POINTS].astype(np.float64)
        pts = (pts + 1.0) * (LMK106_SIZE // 2)
        frame_pts = transform_points(pts, invert_affine(m))
        h, w = rgb.shape[:2]
        box = clip_bbox(bbox_of(frame_pts), w, h) if _has_106(face) else face.bbox
        return replace(face, bbox=box, landmarks=frame_pts)


def _has_106(face: Face) -> bool:
    return face.landmarks is not None and face.landmarks.shape[0] == LMK106_POINTS
