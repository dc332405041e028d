"""How usable a still face is for a persona: size, pose, sharpness, exposure, occlusion.

Each check gives a 0..1 factor; the score is their product, and every factor below 1 adds a
human-readable reason, so the UI can say *why* a photo is weak.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from layer_desktop.engine.faces.geometry import RotatedRect, angle_between, warp
from layer_desktop.engine.faces.mesh import (
    CHIN,
    FOREHEAD,
    LEFT_EYE_OUTER,
    MESH_POINTS,
    RIGHT_EYE_OUTER,
)
from layer_desktop.engine.faces.types import Face, ImageRGB

GOOD_SIZE_PX = 128.0
MIN_SIZE_PX = 48.0
SHARP_LAPLACIAN = 150.0  # variance of the Laplacian on a 128 px face crop that counts as sharp
MAX_YAW, MAX_PITCH, MAX_ROLL = 45.0, 35.0, 30.0


@dataclass(frozen=True)
class FaceQuality:
    """Quality of one face: ``score`` 0..1 (1 = ideal), ``reasons`` for what lowers it.

    ``size_px`` is the face box's shorter side, angles are degrees (yaw > 0: the face turns towards the
    image's right; pitch > 0: chin up; roll > 0: eye line slopes down to the right), ``blur`` the variance
    of the Laplacian (higher is sharper), ``exposure`` the mean luminance 0..1.
    """

    score: float
    reasons: tuple[str, ...]
    size_px: float
    yaw: float
    pitch: float
    roll: float
    blur: float
    exposure: float


def head_pose(face: Face) -> tuple[float, float, float]:
    """Yaw, pitch, roll in degrees, from the 3-D mesh when present, else from the keypoints."""
    lm = face.landmarks
    if lm is not None and lm.shape == (MESH_POINTS, 3):
        return _pose_from_mesh(lm.astype(np.float64))
    return _pose_from_keypoints(face.keypoints.astype(np.float64))


def _pose_from_mesh(lm: np.ndarray) -> tuple[float, float, float]:
    roll = angle_between(lm[RIGHT_EYE_OUTER], lm[LEFT_EYE_OUTER])
    c, s = math.cos(-roll), math.sin(-roll)
    rot = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    p = lm @ rot.T  # eye line horizontal
    eyes = p[LEFT_EYE_OUTER] - p[RIGHT_EYE_OUTER]
    yaw = math.atan2(eyes[2], eyes[0])  # the far eye is deeper (z grows away from the camera)
    vertical = p[CHIN] - p[FOREHEAD]
    pitch = math.atan2(-vertical[2], vertical[1])
    return math.degrees(yaw), math.degrees(pitch), math.degrees(roll)


def _pose_from_keypoints(kp: np.ndarray) -> tuple[float, float, float]:
    """Rough pose from eyes, nose and mouth: the nose's offset from the eye/mouth midline."""
    roll = angle_between(kp[0], kp[1])
    eye_mid = (kp[0] + kp[1]) / 2.0
    eye_dist = float(np.linalg.norm(kp[1] - kp[0])) or 1.0
    c, s = math.cos(-roll), math.sin(-roll)
    nose = kp[2] - eye_mid
    nx, ny = nose[0] * c - nose[1] * s, nose[0] * s + nose[1] * c
    yaw = math.degrees(math.asin(max(-1.0, min(1.0, nx / (0.6 * eye_dist)))))
    pitch = math.degrees(math.asin(max(-1.0, min(1.0, (0.55 - ny / eye_dist) / 0.6))))
    return yaw, pitch, math.degrees(roll)


def _face_crop(rgb: ImageRGB, face: Face, size: int = 128) -> ImageRGB:
    x0, y0, x1, y1 = face.bbox
    rect = RotatedRect((x0 + x1) / 2, (y0 + y1) / 2, max(x1 - x0, 1.0), max(y1 - y0, 1.0))
    return warp(rgb, rect.to_crop(size, size), size, size)


def sharpness(rgb: ImageRGB, face: Face) -> float:
    """Variance of the Laplacian on the face, resampled to 128 px (so it compares across sizes)."""
    grey = cv2.cvtColor(_face_crop(rgb, face), cv2.COLOR_RGB2GRAY)
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


def exposure(rgb: ImageRGB, face: Face) -> tuple[float, float, float]:
    """Mean luminance 0..1, and the fractions of crushed-black and blown-white pixels on the face."""
    grey = cv2.cvtColor(_face_crop(rgb, face), cv2.COLOR_RGB2GRAY).astype(np.float64)
    return float(grey.mean() / 255.0), float((grey <= 8).mean()), float((grey >= 247).mean())


def _ramp(value: float, bad: float, good: float) -> float:
    """0 at ``bad``, 1 at ``good``, linear between (either direction)."""
    if good == bad:
        return 1.0
    return float(min(1.0, max(0.0, (value - bad) / (good - bad))))


def _checks(q: FaceQuality, dark: float, bright: float, presence: float | None) -> list[tuple[float, str]]:
    checks = [
        (
            _ramp(q.size_px, MIN_SIZE_PX / 2, GOOD_SIZE_PX),
            f"face is small ({q.size_px:.0f} px; 128+ is best)",
        ),
        (_ramp(abs(q.yaw), MAX_YAW, 15.0), f"head turned sideways ({q.yaw:+.0f}°)"),
        (_ramp(abs(q.pitch), MAX_PITCH, 15.0), f"head tilted up or down ({q.pitch:+.0f}°)"),
        (_ramp(abs(q.roll), MAX_ROLL * 2, MAX_ROLL), f"head tilted sideways ({q.roll:+.0f}°)"),
        (_ramp(q.blur, SHARP_LAPLACIAN / 10, SHARP_LAPLACIAN), "face is blurry or out of focus"),
        (_ramp(q.exposure, 0.08, 0.25), "face is too dark"),
        (_ramp(q.exposure, 0.92, 0.75), "face is overexposed"),
        (_ramp(max(dark, bright), 0.5, 0.15), "parts of the face are clipped to black or white"),
    ]
    if presence is not None:
        checks.append((_ramp(presence, 0.5, 0.9), "face may be covered or partly hidden"))
    return checks


def face_quality(rgb: ImageRGB, face: Face) -> FaceQuality:
    """Assess one face in an RGB frame; see ``FaceQuality``."""
    yaw, pitch, roll = head_pose(face)
    mean, dark, bright = exposure(rgb, face)
    base = FaceQuality(
        score=1.0,
        reasons=(),
        size_px=float(min(face.width, face.height)),
        yaw=yaw,
        pitch=pitch,
        roll=roll,
        blur=sharpness(rgb, face),
        exposure=mean,
    )
    score, reasons = 1.0, []
    for factor, reason in _checks(base, dark, bright, face.presence):
        score *= factor
        if factor < 1.0:
            reasons.append(reason)
    return FaceQuality(**{**base.__dict__, "score": score, "reasons": tuple(reasons)})
