"""face_quality: one 0..1 score with reasons; pose from the 3-D mesh."""

from __future__ import annotations

import dataclasses
import math

import cv2
import numpy as np

from layer_desktop.engine.faces import FaceAnalyzer, FaceQuality, face_quality, head_pose


def _quality(analyzer: FaceAnalyzer, img: np.ndarray) -> FaceQuality:
    (face,) = analyzer.detect(img)
    return face_quality(img, face)


def test_a_good_portrait_scores_high_with_no_reasons(analyzer: FaceAnalyzer, hopper: np.ndarray) -> None:
    q = _quality(analyzer, hopper)
    assert q.score > 0.9 and q.reasons == ()
    assert 150 < q.size_px < 230 and abs(q.yaw) < 10 and abs(q.roll) < 10 and abs(q.pitch) < 20
    assert 0.3 < q.exposure < 0.8 and q.blur > 150


def test_blur_darkness_and_size_lower_the_score_with_reasons(
    analyzer: FaceAnalyzer, hopper: np.ndarray
) -> None:
    good = _quality(analyzer, hopper)
    blurred = _quality(analyzer, cv2.GaussianBlur(hopper, (0, 0), 3))
    assert blurred.blur < good.blur / 10 and blurred.score < 0.5
    assert any("blurry" in r for r in blurred.reasons)
    dark = _quality(analyzer, (hopper * 0.12).astype(np.uint8))
    assert dark.exposure < 0.1 and dark.score < 0.5 and any("too dark" in r for r in dark.reasons)
    small = _quality(analyzer, cv2.resize(hopper, (170, 200), interpolation=cv2.INTER_AREA))
    assert small.size_px < 80 and small.score < good.score and any("small" in r for r in small.reasons)


def test_mirror_flips_roll_and_yaw(analyzer: FaceAnalyzer, astronaut: np.ndarray) -> None:
    q = _quality(analyzer, astronaut)
    m = _quality(analyzer, np.ascontiguousarray(astronaut[:, ::-1]))
    assert abs(q.roll + m.roll) < 2.0 and abs(q.yaw + m.yaw) < 4.0 and abs(q.pitch - m.pitch) < 3.0


def test_turned_mesh_gives_its_yaw_and_pitch(analyzer: FaceAnalyzer, hopper: np.ndarray) -> None:
    (face,) = analyzer.detect(hopper)
    assert face.landmarks is not None
    base_yaw, base_pitch, _ = head_pose(face)
    lm = face.landmarks.astype(np.float64)
    centre = lm.mean(axis=0)
    a = math.radians(30)
    yaw_rot = np.array([[math.cos(a), 0, -math.sin(a)], [0, 1, 0], [math.sin(a), 0, math.cos(a)]])
    turned = (lm - centre) @ yaw_rot.T + centre  # nose moves to the image's right
    yaw, _, _ = head_pose(dataclasses.replace(face, landmarks=turned.astype(np.float32)))
    assert abs((yaw - base_yaw) - 30) < 4
    q = face_quality(
        hopper,
        dataclasses.replace(
            face, landmarks=((lm - centre) @ np.linalg.matrix_power(yaw_rot, 2).T + centre).astype(np.float32)
        ),
    )
    assert any("turned sideways" in r for r in q.reasons)
    assert abs(base_pitch) < 20


def test_low_presence_reads_as_occlusion(analyzer: FaceAnalyzer, hopper: np.ndarray) -> None:
    (face,) = analyzer.detect(hopper)
    q = face_quality(hopper, dataclasses.replace(face, presence=0.55))
    assert q.score < 0.3 and any("covered" in r for r in q.reasons)


def test_keypoint_only_pose_is_frontal_for_a_frontal_face(analyzer: FaceAnalyzer, hopper: np.ndarray) -> None:
    (face,) = analyzer.detect(hopper)
    yaw, pitch, roll = head_pose(dataclasses.replace(face, landmarks=None))
    assert abs(yaw) < 15 and abs(roll) < 10 and abs(pitch) < 25
