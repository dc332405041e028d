"""MediaPipe Face Mesh (468 3-D landmarks) on LiteRT, with rotation-aware crops.

The crop follows MediaPipe's graphs: from a detection, the box is turned by the eye line (keypoints 0
and 1), enlarged 1.5x and squared; from the previous frame's landmarks, the rect at the angle of the
outer eye corners (33 and 263) around all points, enlarged 1.5x and squared.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np

from layer_desktop.engine.faces.geometry import (
    RotatedRect,
    angle_between,
    bbox_of,
    clip_bbox,
    invert_affine,
    rect_from_points,
    transform_points,
    warp,
)
from layer_desktop.engine.faces.litert import FACE_MESH_FILE, TfliteModel, shipped_model
from layer_desktop.engine.faces.types import Face, ImageRGB
from layer_desktop.errors import ModelError

log = logging.getLogger(__name__)

MESH_SIZE = 192
MESH_POINTS = 468
RIGHT_EYE_OUTER, LEFT_EYE_OUTER = 33, 263  # subject's right eye is on the image's left
NOSE_TIP, CHIN, FOREHEAD = 1, 152, 10
MOUTH_RIGHT, MOUTH_LEFT = 61, 291
RIGHT_EYE_INNER, LEFT_EYE_INNER = 133, 362


def roi_from_detection(face: Face, scale: float = 1.5) -> RotatedRect:
    """The mesh crop for a detector face: box turned by the eye line, enlarged and squared."""
    x0, y0, x1, y1 = face.bbox
    angle = angle_between(face.keypoints[0], face.keypoints[1]) if len(face.keypoints) >= 2 else 0.0
    rect = RotatedRect((x0 + x1) / 2.0, (y0 + y1) / 2.0, x1 - x0, y1 - y0, angle)
    return rect.scaled(scale)


def roi_from_landmarks(landmarks: np.ndarray, scale: float = 1.5) -> RotatedRect:
    """The mesh crop that follows a face from its previous 468 landmarks."""
    angle = angle_between(landmarks[RIGHT_EYE_OUTER], landmarks[LEFT_EYE_OUTER])
    return rect_from_points(landmarks, angle).scaled(scale)


class FaceMeshLandmarker:
    """Fits the 468-point mesh; ``fit`` uses the face's landmarks when it has them, else its box."""

    name = "facemesh-468"

    def __init__(
        self,
        *,
        model_path: str | Path | None = None,
        num_threads: int = 1,
        min_presence: float = 0.5,
        roi_scale: float = 1.5,
    ) -> None:
        path = model_path or shipped_model(FACE_MESH_FILE)
        self.model = TfliteModel(path, num_threads=num_threads)
        if self.model.input_shape != (1, MESH_SIZE, MESH_SIZE, 3):
            raise ModelError(
                f"{Path(path).name} is not the Face Mesh model ({self.model.input_shape}).", path=path
            )
        self.min_presence = min_presence
        self.roi_scale = roi_scale

    def roi(self, face: Face) -> RotatedRect:
        """The crop the mesh will see for this face."""
        if face.landmarks is not None and face.landmarks.shape[0] == MESH_POINTS:
            return roi_from_landmarks(face.landmarks, self.roi_scale)
        return roi_from_detection(face, self.roi_scale)

    def run_roi(self, rgb: ImageRGB, rect: RotatedRect) -> tuple[np.ndarray, float]:
        """468 landmarks (x, y, z in frame pixels) and the presence probability for one crop."""
        m = rect.to_crop(MESH_SIZE, MESH_SIZE)
        crop = warp(rgb, m, MESH_SIZE, MESH_SIZE)
        outs = self.model.run((crop.astype(np.float32) / 255.0)[None])
        raw = next(v for v in outs.values() if v.size == MESH_POINTS * 3).reshape(MESH_POINTS, 3)
        logit = float(next(v for v in outs.values() if v.size == 1).reshape(()))
        presence = 1.0 / (1.0 + math.exp(-max(min(logit, 50.0), -50.0)))
        pts = transform_points(raw, invert_affine(m))
        pts[:, 2] = raw[:, 2] * (rect.width / MESH_SIZE)  # z: crop pixels -> frame pixels
        return pts.astype(np.float32), presence

    def fit(self, rgb: ImageRGB, face: Face) -> Face | None:
        """The face with mesh landmarks, a box around them and the presence score; None if absent."""
        pts, presence = self.run_roi(rgb, self.roi(face))
        if presence < self.min_presence:
            log.debug("mesh presence %.2f below %.2f: no face in the crop", presence, self.min_presence)
            return None
        h, w = rgb.shape[:2]
        box = clip_bbox(bbox_of(pts), w, h)
        keypoints = face.keypoints
        if face.landmarks is not None and keypoints.shape[0] == 6:
            keypoints = mesh_keypoints(pts)  # follow the face instead of keeping stale detector points
        return Face(
            bbox=box if face.landmarks is not None else face.bbox,
            score=face.score,
            keypoints=keypoints,
            landmarks=pts,
            track_id=face.track_id,
            presence=presence,
        )


def mesh_keypoints(landmarks: np.ndarray) -> np.ndarray:
    """BlazeFace-style 6 keypoints from mesh landmarks (eye centres, nose tip, mouth centre, ears)."""
    lm = landmarks[:, :2]
    return np.stack(
        [
            (lm[RIGHT_EYE_OUTER] + lm[RIGHT_EYE_INNER]) / 2.0,
            (lm[LEFT_EYE_OUTER] + lm[LEFT_EYE_INNER]) / 2.0,
            lm[NOSE_TIP],
            (lm[13] + lm[14]) / 2.0,  # inner lips, upper and lower
            lm[234],
            lm[454],  # face-oval points beside the ears
        ]
    ).astype(np.float32)
