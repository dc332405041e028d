"""Face Mesh on LiteRT: rotation-aware crops, points on the face, mirror symmetry, presence."""

from __future__ import annotations

import cv2
import numpy as np

from layer_desktop.engine.faces import Face, FaceAnalyzer, FaceMeshLandmarker
from layer_desktop.engine.faces.geometry import RotatedRect
from layer_desktop.engine.faces.mesh import (
    CHIN,
    LEFT_EYE_OUTER,
    MOUTH_LEFT,
    MOUTH_RIGHT,
    NOSE_TIP,
    RIGHT_EYE_OUTER,
)

# mirror pairs (subject's right <-> left) and midline points
PAIRS = [(RIGHT_EYE_OUTER, LEFT_EYE_OUTER), (133, 362), (MOUTH_RIGHT, MOUTH_LEFT), (234, 454)]
MIDLINE = [NOSE_TIP, CHIN, 10, 13, 14]


def _inside(rect: RotatedRect, pts: np.ndarray) -> np.ndarray:
    crop = pts[:, :2] @ rect.to_crop(100, 100)[:, :2].T + rect.to_crop(100, 100)[:, 2]
    return ((crop >= 0) & (crop <= 100)).all(axis=1)


def test_mesh_points_lie_on_the_face(
    analyzer: FaceAnalyzer, astronaut: np.ndarray, hopper: np.ndarray
) -> None:
    assert isinstance(analyzer.landmarker, FaceMeshLandmarker)
    for img in (astronaut, hopper):
        (face,) = analyzer.detect(img)
        lm = face.landmarks
        assert lm is not None and lm.shape == (468, 3) and lm.dtype == np.float32
        assert face.presence is not None and face.presence > 0.9
        eyes_y = (lm[RIGHT_EYE_OUTER, 1] + lm[LEFT_EYE_OUTER, 1]) / 2
        mouth_y = (lm[MOUTH_RIGHT, 1] + lm[MOUTH_LEFT, 1]) / 2
        assert eyes_y < lm[NOSE_TIP, 1] < mouth_y < lm[CHIN, 1]
        assert lm[RIGHT_EYE_OUTER, 0] < lm[NOSE_TIP, 0] < lm[LEFT_EYE_OUTER, 0]
        roi = analyzer.landmarker.roi(Face(face.bbox, face.score, face.keypoints))
        assert _inside(roi, lm).all()
        x0, y0, x1, y1 = face.bbox  # the eyes and nose are inside the detector box
        for i in (RIGHT_EYE_OUTER, LEFT_EYE_OUTER, NOSE_TIP):
            assert x0 <= lm[i, 0] <= x1 and y0 <= lm[i, 1] <= y1


def test_mirrored_image_gives_mirrored_points(analyzer: FaceAnalyzer, hopper: np.ndarray) -> None:
    (face,) = analyzer.detect(hopper)
    (mirrored,) = analyzer.detect(np.ascontiguousarray(hopper[:, ::-1]))
    assert face.landmarks is not None and mirrored.landmarks is not None
    w = hopper.shape[1]
    flipped = mirrored.landmarks[:, :2].copy()
    flipped[:, 0] = (w - 1) - flipped[:, 0]
    tol = 0.03 * face.width  # a few px on this ~190 px face
    for a, b in PAIRS:  # the subject's right eye in the mirror is the left eye of the original
        assert np.linalg.norm(flipped[a] - face.landmarks[b, :2]) < tol
        assert np.linalg.norm(flipped[b] - face.landmarks[a, :2]) < tol
    for i in MIDLINE:
        assert np.linalg.norm(flipped[i] - face.landmarks[i, :2]) < tol
    # as point sets, every mirrored point lands near some original point
    d = np.linalg.norm(flipped[:, None, :] - face.landmarks[None, :, :2], axis=2).min(axis=1)
    assert np.median(d) < 0.02 * face.width


def test_rotated_face_is_fitted_through_the_rotated_crop(analyzer: FaceAnalyzer, hopper: np.ndarray) -> None:
    (face,) = analyzer.detect(hopper)
    h, w = hopper.shape[:2]
    m = cv2.getRotationMatrix2D(face.center, 30.0, 1.0)  # counter-clockwise on screen
    rotated = cv2.warpAffine(hopper, m, (w, h))
    (turned,) = analyzer.detect(rotated)
    assert face.landmarks is not None and turned.landmarks is not None
    expected = face.landmarks[:, :2] @ m[:, :2].T + m[:, 2]
    err = np.linalg.norm(turned.landmarks[:, :2] - expected, axis=1)
    assert np.median(err) < 0.04 * face.width


def test_presence_is_low_where_there_is_no_face(analyzer: FaceAnalyzer) -> None:
    landmarker = analyzer.landmarker
    assert isinstance(landmarker, FaceMeshLandmarker)
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 255, size=(200, 200, 3), dtype=np.uint8)
    fake = Face(
        (50.0, 50.0, 150.0, 150.0), 0.9, np.array([[80, 90], [120, 90], [100, 110], [100, 130]], np.float32)
    )
    _, presence = landmarker.run_roi(noise, landmarker.roi(fake))
    assert presence < 0.5
    assert landmarker.fit(noise, fake) is None


def test_tracking_fit_from_previous_landmarks_follows_a_shift(
    analyzer: FaceAnalyzer, astronaut: np.ndarray
) -> None:
    (face,) = analyzer.detect(astronaut)
    shifted = np.zeros_like(astronaut)
    shifted[:, 12:] = astronaut[:, :-12]  # the face moves 12 px right
    followed = analyzer.fit(shifted, face)
    assert followed is not None and followed.landmarks is not None and face.landmarks is not None
    dx = followed.landmarks[:, 0] - face.landmarks[:, 0]
    assert abs(float(np.median(dx)) - 12.0) < 2.0
    assert followed.keypoints.shape == (6, 2)
