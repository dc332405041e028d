"""BlazeFace on LiteRT: anchors, decoding, NMS, and detections on the shared photos and clips."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import decode_frames

from layer_desktop.engine.faces import BlazeFaceConfig, BlazeFaceDetector, FaceAnalyzer, face_quality, ssd
from layer_desktop.errors import MultipleFacesError, NoFaceError


def test_anchor_sets_match_the_models_output_rows() -> None:
    short, full = ssd.generate_anchors(ssd.SHORT_RANGE), ssd.generate_anchors(ssd.FULL_RANGE)
    assert short.shape == (896, 2) and full.shape == (2304, 2)
    # short range: 16x16 cells x 2 anchors at stride 8, then 8x8 cells x 6 anchors at stride 16
    assert np.allclose(short[0], [0.5 / 16, 0.5 / 16]) and np.allclose(short[1], short[0])
    assert np.allclose(short[512:518], [0.5 / 8, 0.5 / 8]) and np.allclose(short[518], [1.5 / 8, 0.5 / 8])
    assert np.allclose(full[1], [1.5 / 48, 0.5 / 48])  # one anchor per 4-px cell on a 48x48 map


def test_decode_maps_raw_offsets_through_anchors() -> None:
    anchors = np.array([[0.5, 0.5], [0.25, 0.75]], dtype=np.float32)
    raw = np.zeros((2, 16), dtype=np.float32)
    raw[0, :4] = [12.8, -12.8, 64.0, 32.0]  # centre offsets and size, in 128-px input units
    raw[0, 4:6] = [-6.4, 0.0]
    scores = np.array([5.0, -5.0], dtype=np.float32)
    dec = ssd.decode(raw, scores, anchors, scale=128.0, min_score=0.5)
    assert dec.boxes.shape == (1, 4)
    assert np.allclose(dec.boxes[0], [0.6 - 0.25, 0.4 - 0.125, 0.6 + 0.25, 0.4 + 0.125], atol=1e-6)
    assert np.allclose(dec.keypoints[0, 0], [0.45, 0.5]) and dec.scores[0] == pytest.approx(
        1 / (1 + np.exp(-5))
    )


def test_weighted_nms_blends_overlaps_and_keeps_separate_faces() -> None:
    boxes = np.array([[0.0, 0, 1, 1], [0.1, 0, 1.1, 1], [3, 3, 4, 4]], dtype=np.float32)
    kps = np.zeros((3, 6, 2), dtype=np.float32)
    kps[1] += 1.0
    dec = ssd.weighted_nms(ssd.Decoded(boxes, kps, np.array([0.9, 0.3, 0.8], dtype=np.float32)), 0.3)
    assert len(dec.scores) == 2 and dec.scores[0] == pytest.approx(0.9)
    assert dec.boxes[0, 0] == pytest.approx(0.1 * 0.3 / 1.2)  # score-weighted average
    assert dec.keypoints[0, 0, 0] == pytest.approx(0.3 / 1.2)
    assert np.allclose(dec.boxes[1], [3, 3, 4, 4])


@pytest.mark.parametrize("detector_range", ["short", "full"])
def test_photos_have_one_face_where_the_readme_says(
    detector_range: str, astronaut: np.ndarray, hopper: np.ndarray
) -> None:
    detector = BlazeFaceDetector(BlazeFaceConfig(range=detector_range))  # type: ignore[arg-type]
    # README (dlib): astronaut at (175, 76) 91 px wide; Hopper at (180, 139) 187 px wide
    for img, (x, y, w) in ((astronaut, (175, 76, 91)), (hopper, (180, 139, 187))):
        faces = detector.detect(img)
        assert len(faces) == 1
        face = faces[0]
        cx, cy = face.center
        assert abs(cx - (x + w / 2)) < 0.15 * w and abs(cy - (y + w / 2)) < 0.2 * w
        assert 0.8 * w < face.width < 1.35 * w
        assert face.score > 0.8 and face.keypoints.shape == (6, 2)
        right_eye, left_eye, nose, mouth = face.keypoints[:4]
        assert right_eye[0] < nose[0] < left_eye[0] and max(right_eye[1], left_eye[1]) < nose[1] < mouth[1]


def test_every_frame_of_the_two_face_clip_has_both_faces(
    two_faces_frames: list[np.ndarray], analyzer: FaceAnalyzer
) -> None:
    assert len(two_faces_frames) == 120
    for i, frame in enumerate(two_faces_frames):
        faces = analyzer.detect(frame)
        assert len(faces) == 2, f"frame {i}"
        left, right = sorted(faces, key=lambda f: f.center[0])
        assert left.center[0] < 320 < right.center[0]  # astronaut left, Hopper right
        assert 80 < left.width < 130 and 120 < right.width < 175
        assert all(f.landmarks is not None and f.landmarks.shape == (468, 3) for f in faces)


def test_no_face_clip_gives_no_faces_and_no_error(media_dir: Path, analyzer: FaceAnalyzer) -> None:
    frames = decode_frames(media_dir / "clips" / "no_face_3s.mp4")
    assert len(frames) == 72
    assert all(analyzer.detect(f) == [] for f in frames)


def test_rotated_clip_needs_its_rotation_applied(media_dir: Path, analyzer: FaceAnalyzer) -> None:
    upright = decode_frames(media_dir / "clips" / "vfr_rotated.mp4")
    assert upright[0].shape == (640, 360, 3)
    for frame in upright[::5]:
        faces = analyzer.detect(frame)
        assert len(faces) == 1
        assert abs(face_quality(frame, faces[0]).roll) < 15
    # the stored (coded) frames show the face lying on its side: the rotation-aware mesh still fits it,
    # and the quality check says the head is tilted
    for frame in upright[::10]:
        coded = np.ascontiguousarray(np.rot90(frame, k=1))
        faces = analyzer.detect(coded)
        assert len(faces) == 1
        quality = face_quality(coded, faces[0])
        assert abs(quality.roll) > 55 and any("tilted sideways" in r for r in quality.reasons)


def test_analyzer_name_and_empty_frame(analyzer: FaceAnalyzer) -> None:
    assert analyzer.name == "blazeface-short+facemesh-468"
    assert analyzer.detect(np.zeros((90, 160, 3), dtype=np.uint8)) == []


def test_detect_one_says_when_there_is_no_face_or_several(
    analyzer: FaceAnalyzer, hopper: np.ndarray, two_faces_frames: list[np.ndarray]
) -> None:
    assert analyzer.detect_one(hopper).width > 150
    with pytest.raises(NoFaceError, match="blank"):
        analyzer.detect_one(np.zeros((100, 100, 3), dtype=np.uint8), name="blank")
    with pytest.raises(MultipleFacesError, match="2 faces"):
        analyzer.detect_one(two_faces_frames[0])
    assert analyzer.detect_one(two_faces_frames[0], index=1).center[0] < 320  # the smaller, left face
    with pytest.raises(MultipleFacesError, match="no face number 5"):
        analyzer.detect_one(two_faces_frames[0], index=5)
