"""Alignment to the ArcFace template, checked against scikit-image's SimilarityTransform (the reference
insightface's ``face_align.estimate_norm`` uses)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from skimage.transform import SimilarityTransform

from layer_desktop.engine.faces import ARCFACE_TEMPLATE, Face, FaceAnalyzer, five_points, norm_crop, umeyama
from layer_desktop.engine.faces.align import align_matrix


def _reference_matrix(points: np.ndarray, size: int) -> np.ndarray:
    """insightface estimate_norm, written with skimage."""
    ratio, diff_x = (size / 112.0, 0.0) if size % 112 == 0 else (size / 128.0, 8.0 * size / 128.0)
    dst = ARCFACE_TEMPLATE * ratio
    dst[:, 0] += diff_x
    tform = SimilarityTransform.from_estimate(points, dst)
    return np.asarray(tform.params[:2])


@pytest.mark.parametrize("size", [112, 128, 224])
def test_similarity_matches_skimage(size: int) -> None:
    rng = np.random.default_rng(size)
    for _ in range(20):
        angle, scale = rng.uniform(-0.8, 0.8), rng.uniform(0.5, 4.0)
        rot = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        pts = ARCFACE_TEMPLATE @ rot.T + rng.uniform(0, 500, 2) + rng.normal(0, 3, (5, 2))
        assert np.allclose(align_matrix(pts, size), _reference_matrix(pts, size), atol=1e-8)


def test_exact_similarity_is_recovered() -> None:
    src = np.array([[0, 0], [10, 0], [5, 8], [1, 12], [9, 12]], dtype=np.float64)
    m_true = cv2.getRotationMatrix2D((3.0, 4.0), 25.0, 1.7)
    dst = src @ m_true[:, :2].T + m_true[:, 2]
    assert np.allclose(umeyama(src, dst), m_true, atol=1e-9)


def test_norm_crop_puts_the_eyes_on_the_template(analyzer: FaceAnalyzer, hopper: np.ndarray) -> None:
    (face,) = analyzer.detect(hopper)
    pts = five_points(face)
    crop, m = norm_crop(hopper, pts)
    assert crop.shape == (112, 112, 3)
    reference = cv2.warpAffine(hopper, _reference_matrix(pts.astype(np.float64), 112), (112, 112))
    assert np.abs(crop.astype(int) - reference.astype(int)).max() <= 1
    mapped = pts @ m[:, :2].T + m[:, 2]
    assert np.linalg.norm(mapped[:2] - ARCFACE_TEMPLATE[:2], axis=1).max() < 4.0  # eyes within 4 px


def test_five_points_from_blazeface_keypoints_only() -> None:
    kp = np.array([[40, 50], [80, 50], [60, 70], [60, 90], [20, 55], [100, 55]], dtype=np.float32)
    pts = five_points(Face((10, 20, 110, 120), 0.9, kp))
    assert pts.shape == (5, 2) and np.allclose(pts[:3], kp[:3])
    assert pts[3, 0] < 60 < pts[4, 0] and pts[3, 1] == pts[4, 1] == 90
