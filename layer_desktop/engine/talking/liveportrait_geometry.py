"""The LivePortrait backend's geometry: the face crop it expects, the eye/lip ratios of the photo, the
keypoint transform, and the paste-back of its 512-px output.

The crop is FaceFusion's face-editor crop: the five face points spread 1.5x about their centroid and
aligned (similarity, least squares) to the ``ffhq_512`` five-point template, giving a 512-px crop that
holds the whole head; the models see it resized to 256 px.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from layer_desktop.engine.faces.align import five_points, umeyama
from layer_desktop.engine.faces.geometry import Affine, invert_affine
from layer_desktop.engine.faces.mesh import MESH_POINTS
from layer_desktop.engine.faces.types import Face, ImageRGB
from layer_desktop.engine.swap.types import blend_into
from layer_desktop.engine.swap.warp import Rect
from layer_desktop.errors import ImageError

CROP = 512  # the generator's output side, and the crop's
INPUT = 256  # the feature/motion extractors' input side
CROP_SPREAD = 1.5  # the five points are spread this much about their centroid before aligning
# FaceFusion's ``ffhq_512`` template (eyes, nose tip, mouth corners; image-left first), as a fraction of
# the crop side.
FFHQ_512 = np.array(
    [
        [0.37691676, 0.46864664],
        [0.62285697, 0.46912813],
        [0.50123859, 0.61331904],
        [0.39308822, 0.72541100],
        [0.61150205, 0.72490465],
    ],
    dtype=np.float64,
)
# Face Mesh indices standing in for the 68-point ones LivePortrait's ratios are measured on:
# eye = upper lid to lower lid over corner to corner; lip = inner upper to inner lower lip over the
# mouth corners. "Left" is the image's left (the subject's right eye), as in the 68-point scheme.
LEFT_EYE = (159, 145, 133, 33)  # top, bottom, corner, corner
RIGHT_EYE = (386, 374, 263, 362)
LIP = (13, 14, 291, 61)
DEFAULT_EYE_RATIO = 0.3  # a relaxed open eye, used when the face has no dense landmarks
DEFAULT_LIP_RATIO = 0.0  # a closed mouth, likewise

FaceLike = Face | NDArray[np.floating] | tuple[float, float, float, float]


def as_face(face: FaceLike) -> Face:
    """A ``Face`` from a face, an array of points (5 aligned points or 468 Face Mesh landmarks), or a
    box ``(x0, y0, x1, y1)``. Raises ``ImageError`` for anything else."""
    if isinstance(face, Face):
        return face
    arr = np.asarray(face, np.float64)
    if arr.shape == (4,):
        x0, y0, x1, y1 = (float(v) for v in arr)
        if x1 <= x0 or y1 <= y0:
            raise ImageError(f"The face box {tuple(arr)} is empty.")
        w, h = x1 - x0, y1 - y0
        rel = np.array([[0.32, 0.42], [0.68, 0.42], [0.5, 0.58], [0.38, 0.76], [0.62, 0.76]])
        points = np.column_stack([x0 + rel[:, 0] * w, y0 + rel[:, 1] * h])
        return Face((x0, y0, x1, y1), 1.0, points.astype(np.float32))
    if arr.ndim == 2 and arr.shape[0] in (5, MESH_POINTS) and arr.shape[1] >= 2:
        xy = arr[:, :2]
        box = (float(xy[:, 0].min()), float(xy[:, 1].min()), float(xy[:, 0].max()), float(xy[:, 1].max()))
        if arr.shape[0] == 5:
            return Face(box, 1.0, xy.astype(np.float32))
        return Face(box, 1.0, np.zeros((0, 2), np.float32), landmarks=arr.astype(np.float32))
    raise ImageError(
        "A face is a Face, 5 points, 468 Face Mesh landmarks or a box (x0, y0, x1, y1); "
        f"got shape {arr.shape}."
    )


def crop_matrix(face: Face) -> Affine:
    """The affine from photo pixels to the 512-px LivePortrait crop of ``face``."""
    points = five_points(face).astype(np.float64)
    centre = points.mean(axis=0)
    spread = centre + (points - centre) * CROP_SPREAD
    return umeyama(spread, FFHQ_512 * CROP)


def _ratio(lm: NDArray[np.float64], idx: tuple[int, int, int, int]) -> float:
    top, bottom, a, b = idx
    return float(np.linalg.norm(lm[top] - lm[bottom]) / (np.linalg.norm(lm[a] - lm[b]) + 1e-6))


def face_ratios(face: Face) -> tuple[float, float, float]:
    """(left eye, right eye, lip) opening ratios of the photo's face, as the retargeters take them."""
    if face.landmarks is None or len(face.landmarks) != MESH_POINTS:
        return DEFAULT_EYE_RATIO, DEFAULT_EYE_RATIO, DEFAULT_LIP_RATIO
    lm = np.asarray(face.landmarks, np.float64)[:, :2]
    return _ratio(lm, LEFT_EYE), _ratio(lm, RIGHT_EYE), _ratio(lm, LIP)


def model_input(crop: ImageRGB) -> NDArray[np.float32]:
    """The extractors' ``input``: the 512 crop at 256 px, (1, 3, 256, 256) RGB in [0, 1]."""
    small = cv2.resize(crop, (INPUT, INPUT), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray((small.astype(np.float32) / 255.0).transpose(2, 0, 1)[None])


def rotation(pitch: float, yaw: float, roll: float) -> NDArray[np.float32]:
    """The head rotation for angles in degrees: extrinsic x (pitch), y (yaw), z (roll), i.e. Rz Ry Rx."""
    p, y, r = np.radians([pitch, yaw, roll])
    rx = np.array([[1, 0, 0], [0, np.cos(p), -np.sin(p)], [0, np.sin(p), np.cos(p)]])
    ry = np.array([[np.cos(y), 0, np.sin(y)], [0, 1, 0], [-np.sin(y), 0, np.cos(y)]])
    rz = np.array([[np.cos(r), -np.sin(r), 0], [np.sin(r), np.cos(r), 0], [0, 0, 1]])
    return np.asarray(rz @ ry @ rx, np.float32)


@dataclass(frozen=True)
class Motion:
    """The motion extractor's outputs for the photo (angles in degrees)."""

    pitch: float
    yaw: float
    roll: float
    scale: NDArray[np.float32]  # (1, 1)
    translation: NDArray[np.float32]  # (1, 3)
    expression: NDArray[np.float32]  # (1, 21, 3)
    points: NDArray[np.float32]  # (1, 21, 3): canonical keypoints

    def keypoints(self, pose: tuple[float, float, float] = (0.0, 0.0, 0.0)) -> NDArray[np.float32]:
        """The posed keypoints ``scale * (points @ R.T + expression) + translation`` (1, 21, 3), with
        ``pose`` (pitch, yaw, roll degrees) added to the photo's head angles."""
        rot = rotation(self.pitch + pose[0], self.yaw + pose[1], self.roll + pose[2])
        kp = self.scale.reshape(1, 1, 1) * (self.points @ rot.T + self.expression)
        return np.asarray(kp + self.translation.reshape(1, 1, 3), np.float32)


def paste_mask(feather: float = 0.08) -> NDArray[np.float32]:
    """The crop-space blend mask: 1 in the middle, a soft ramp, exactly 0 on the crop's outer band."""
    mask = np.zeros((CROP, CROP), np.float32)
    m = round(CROP * feather)
    mask[m : CROP - m, m : CROP - m] = 1.0
    k = (m | 1) if m > 1 else 3
    blurred = np.asarray(cv2.GaussianBlur(mask, (k, k), 0), np.float32)
    blurred[: m // 2], blurred[CROP - m // 2 :], blurred[:, : m // 2], blurred[:, CROP - m // 2 :] = (
        0,
        0,
        0,
        0,
    )
    return blurred


@dataclass(frozen=True)
class Paste:
    """Where the crop goes back into the photo: the rect it covers and the crop→rect affine."""

    rect: Rect
    to_rect: Affine
    mask: NDArray[np.float32]  # rect-sized

    @classmethod
    def of(cls, matrix: Affine, width: int, height: int, crop_mask: NDArray[np.float32]) -> Paste:
        inv = invert_affine(matrix)
        corners = cv2.transform(np.array([[[0, 0], [CROP, 0], [0, CROP], [CROP, CROP]]], np.float64), inv)[0]
        rect = Rect.around(corners, 2.0, width, height)
        shift = np.array([[1, 0, -rect.x0], [0, 1, -rect.y0], [0, 0, 1]], np.float64)
        to_rect = (shift @ np.vstack([inv, [0, 0, 1]]))[:2]
        mask = np.zeros((max(rect.height, 0), max(rect.width, 0)), np.float32)
        if not rect.empty:
            mask = np.asarray(
                cv2.warpAffine(crop_mask, to_rect, (rect.width, rect.height), flags=cv2.INTER_LINEAR),
                np.float32,
            )
        return cls(rect, to_rect, mask)

    def apply(self, photo: ImageRGB, crop: ImageRGB) -> ImageRGB:
        """A copy of ``photo`` with ``crop`` pasted back through the soft mask (pixels where the mask is
        0 are the photo's, exactly)."""
        out = photo.copy()
        if self.rect.empty:
            return out
        back = cv2.warpAffine(
            crop, self.to_rect, (self.rect.width, self.rect.height), flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        )  # fmt: skip
        blend_into(out, self.rect, np.asarray(back, np.uint8), self.mask)
        return out
