"""Similarity alignment of 5 face points to the ArcFace 112x112 template (Umeyama 1991)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from layer_desktop.engine.faces.geometry import Affine, warp
from layer_desktop.engine.faces.mesh import (
    LEFT_EYE_INNER,
    LEFT_EYE_OUTER,
    MESH_POINTS,
    MOUTH_LEFT,
    MOUTH_RIGHT,
    NOSE_TIP,
    RIGHT_EYE_INNER,
    RIGHT_EYE_OUTER,
)
from layer_desktop.engine.faces.types import Face, FloatArray, ImageRGB
from layer_desktop.errors import ImageError

# insightface's arcface_dst: eyes, nose, mouth corners (image-left first) in a 112x112 crop
ARCFACE_TEMPLATE = np.array(
    [
        [38.2946, 51.6963],
        [73.5318, 51.5014],
        [56.0252, 71.7366],
        [41.5493, 92.3655],
        [70.7299, 92.2041],
    ],
    dtype=np.float64,
)


def umeyama(src: NDArray[np.floating], dst: NDArray[np.floating]) -> Affine:
    """Least-squares similarity (rotation, uniform scale, translation) mapping ``src`` onto ``dst``.

    Returns the 2x3 matrix. Same estimate as ``skimage.transform.SimilarityTransform.estimate``.
    """
    s, d = np.asarray(src, dtype=np.float64), np.asarray(dst, dtype=np.float64)
    n = s.shape[0]
    ms, md = s.mean(axis=0), d.mean(axis=0)
    sc, dc = s - ms, d - md
    cov = dc.T @ sc / n
    u, sig, vt = np.linalg.svd(cov)
    sign = np.ones(2)
    if np.linalg.det(cov) < 0:
        sign[-1] = -1.0
    if np.linalg.matrix_rank(cov) == 0:
        raise ValueError("degenerate points: cannot estimate a similarity")
    r = u @ np.diag(sign) @ vt
    var = (sc**2).sum() / n
    scale = float((sig * sign).sum() / var)
    t = md - scale * (r @ ms)
    return np.hstack([scale * r, t[:, None]])


def five_points(face: Face) -> FloatArray:
    """The 5 ArcFace points (eyes, nose tip, mouth corners; image-left first) of a face."""
    kp = face.keypoints
    if kp.shape[0] == 5:
        return kp.astype(np.float32)
    lm = face.landmarks
    if lm is not None and lm.shape[0] == MESH_POINTS:
        p = lm[:, :2]
        return np.stack(
            [
                (p[RIGHT_EYE_OUTER] + p[RIGHT_EYE_INNER]) / 2.0,
                (p[LEFT_EYE_OUTER] + p[LEFT_EYE_INNER]) / 2.0,
                p[NOSE_TIP],
                p[MOUTH_RIGHT],
                p[MOUTH_LEFT],
            ]
        ).astype(np.float32)
    if kp.shape[0] >= 4:  # BlazeFace without a mesh: mouth corners around the mouth centre
        eye_vec = kp[1] - kp[0]
        half = 0.38 * eye_vec
        return np.stack([kp[0], kp[1], kp[2], kp[3] - half, kp[3] + half]).astype(np.float32)
    raise ImageError("This face has no keypoints to align it by.")


def align_matrix(points: NDArray[np.floating], size: int = 112) -> Affine:
    """The affine from frame pixels to an aligned ``size`` crop (ArcFace template scaled)."""
    ratio = size / 112.0 if size % 112 == 0 else size / 128.0
    diff_x = 0.0 if size % 112 == 0 else 8.0 * ratio
    dst = ARCFACE_TEMPLATE * ratio
    dst[:, 0] += diff_x
    return umeyama(points, dst)


def norm_crop(rgb: ImageRGB, points: NDArray[np.floating], size: int = 112) -> tuple[ImageRGB, Affine]:
    """The aligned face crop (as insightface ``face_align.norm_crop``) and its affine."""
    m = align_matrix(points, size)
    return warp(rgb, m, size, size), m
