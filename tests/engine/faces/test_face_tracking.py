"""FaceTracker: stable ids, landmark tracking between detections, gaps, scene cuts."""

from __future__ import annotations

import cv2
import numpy as np

from layer_desktop.engine.faces import FaceAnalyzer, FaceTracker, TrackerConfig


def _run(tracker: FaceTracker, frames: list[np.ndarray]) -> list[dict[int, tuple[float, float]]]:
    return [{f.track_id: f.center for f in tracker.update(fr) if f.track_id is not None} for fr in frames]


def test_two_face_clip_keeps_two_stable_ids_on_every_frame(
    analyzer: FaceAnalyzer, two_faces_frames: list[np.ndarray]
) -> None:
    tracker = FaceTracker(analyzer, TrackerConfig(detect_every=5))
    per_frame = _run(tracker, two_faces_frames)
    assert all(len(ids) == 2 for ids in per_frame)
    first = per_frame[0]
    left_id = min(first, key=lambda k: first[k][0])
    for ids in per_frame:
        assert set(ids) == set(first)  # same two ids throughout
        assert ids[left_id][0] < 320  # and the left one stays the astronaut
    # detection ran on 1 frame in 5; the other frames were tracked by landmarks alone
    assert tracker.stats.detections == 24 and tracker.stats.landmark_updates == 2 * 96
    assert tracker.stats.scene_cuts == 0
    for face in tracker.tracks:
        assert face.landmarks is not None and face.landmarks.shape == (468, 3)


def test_tracked_landmarks_agree_with_fresh_detection(
    analyzer: FaceAnalyzer, two_faces_frames: list[np.ndarray]
) -> None:
    tracker = FaceTracker(analyzer, TrackerConfig(detect_every=10))
    for i, frame in enumerate(two_faces_frames[:30]):
        tracked = sorted(tracker.update(frame), key=lambda f: f.center[0])
        detected = sorted(analyzer.detect(frame), key=lambda f: f.center[0])
        for t, d in zip(tracked, detected, strict=True):
            assert t.landmarks is not None and d.landmarks is not None
            err = np.linalg.norm(t.landmarks[:, :2] - d.landmarks[:, :2], axis=1)
            assert np.median(err) < 0.05 * d.width, i


def _cover_left_face(frame: np.ndarray) -> None:
    """Hide the astronaut's face behind a patch of her suit (an object passing in front)."""
    frame[60:200, 90:235] = frame[200:340, 90:235]


def test_a_face_hidden_for_a_few_frames_keeps_its_id(
    analyzer: FaceAnalyzer, two_faces_frames: list[np.ndarray]
) -> None:
    frames = [f.copy() for f in two_faces_frames[:40]]
    for f in frames[12:16]:
        _cover_left_face(f)
    tracker = FaceTracker(analyzer, TrackerConfig(detect_every=3, max_missed=6))
    per_frame = _run(tracker, frames)
    left_id = min(per_frame[0], key=lambda k: per_frame[0][k][0])
    assert all(left_id not in ids for ids in per_frame[12:16])  # gone while covered
    assert left_id in per_frame[20] and per_frame[20][left_id][0] < 320  # back with the same id
    assert all(len(ids) == 2 for ids in per_frame[20:])
    assert max(max(ids) for ids in per_frame) == 1  # no new track was started
    assert tracker.stats.scene_cuts == 0


def test_a_face_gone_too_long_comes_back_with_a_new_id(
    analyzer: FaceAnalyzer, two_faces_frames: list[np.ndarray]
) -> None:
    frames = [f.copy() for f in two_faces_frames[:30]]
    for f in frames[5:15]:
        _cover_left_face(f)
    per_frame = _run(FaceTracker(analyzer, TrackerConfig(detect_every=3, max_missed=2)), frames)
    assert sorted(per_frame[0]) == [0, 1] and sorted(per_frame[-1]) in ([0, 2], [1, 2])


def test_scene_cut_resets_tracks(
    analyzer: FaceAnalyzer, two_faces_frames: list[np.ndarray], hopper: np.ndarray
) -> None:
    other_shot = np.ascontiguousarray(cv2.resize(hopper[:300], (640, 360)))
    tracker = FaceTracker(analyzer, TrackerConfig(detect_every=5))
    before = _run(tracker, two_faces_frames[:10])
    after = _run(tracker, [other_shot] * 3)
    assert tracker.stats.scene_cuts == 1
    assert set(before[-1]) == {0, 1}
    assert len(after[0]) == 1 and min(after[0]) >= 2  # a new shot starts new tracks


def test_no_face_frames_track_nothing(analyzer: FaceAnalyzer) -> None:
    tracker = FaceTracker(analyzer)
    blank = np.full((360, 640, 3), 90, dtype=np.uint8)
    assert all(tracker.update(blank) == [] for _ in range(6))
    assert tracker.stats.detections == 6  # nothing to track, so every frame is searched
