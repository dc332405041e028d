"""Shots: cuts and dissolves found from decoded frames, tracks split at them, review ranges per shot."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

from layer_desktop.engine.faces.types import Face
from layer_desktop.engine.media.reader import FrameReader
from layer_desktop.engine.pipeline.analysis import AnalysisKey, analyse_video
from layer_desktop.engine.pipeline.records import FrameRecord
from layer_desktop.engine.pipeline.review import review_ranges
from layer_desktop.engine.pipeline.shots import Shot, detect_shots, frame_features, load_shots, split_tracks
from tests.conftest import SHARED_MEDIA
from tests.footage import Footage


def _features(path: Path) -> tuple[np.ndarray, np.ndarray]:
    hists, thumbs = [], []
    with av.open(str(path)) as c:
        for frame in c.decode(video=0):
            h, t = frame_features(frame.to_ndarray(format="rgb24"))
            hists.append(h)
            thumbs.append(t)
    return np.array(hists), np.array(thumbs)


def test_cuts_and_the_dissolve_of_the_footage_are_found(real_footage: Footage) -> None:
    shots = detect_shots(*_features(real_footage.small_path))
    assert [(s.start, s.transition) for s in shots[:3]] == [(0, "start"), (60, "cut"), (140, "cut")]
    last = shots[3]
    assert last.transition == "dissolve" and abs(last.start - 207) <= 1 and last.stop == 250
    assert last.mix is not None and abs(last.mix[0] - 200) <= 1 and abs(last.mix[1] - 214) <= 1


def test_a_zoom_and_a_camera_drift_are_one_shot() -> None:
    """The kit's talk clip zooms 1.4x with a smoothstep ease: not a dissolve; the two-face clip drifts."""
    for clip in ("talk_astronaut_4s.mp4", "talk_two_faces_4s.mp4"):
        shots = detect_shots(*_features(SHARED_MEDIA / "clips" / clip))
        assert [(s.start, s.stop) for s in shots] == [(0, shots[-1].stop)], clip


def _face(track: int) -> Face:
    return Face((0, 0, 10, 10), 0.9, np.zeros((6, 2), np.float32), track_id=track)


def test_a_track_seen_in_two_shots_becomes_two_tracks() -> None:
    frames = [[_face(0), _face(1)], [_face(0)], [_face(0)], [_face(1)]]
    split = split_tracks(frames, [Shot(0, 0, 2), Shot(1, 2, 4, "cut")])
    ids = [[f.track_id for f in fs] for fs in split]
    assert ids[:2] == [[0, 1], [0]]  # the first shot keeps the ids
    assert ids[2] != [0] and ids[3] != [1] and ids[2] != ids[3]


def test_the_analysis_stores_shots_and_no_track_crosses_one(real_footage: Footage, tmp_path: Path) -> None:
    with FrameReader(real_footage.small_path) as reader:
        found = analyse_video(reader, tmp_path, AnalysisKey("footage", "short", 60))
    assert load_shots(tmp_path / "shots.json") == found.shots
    shot_of = {i: s.index for s in found.shots for i in range(s.start, s.stop)}
    seen: dict[int, int] = {}
    for i, faces in enumerate(found.frames):
        for f in faces:
            assert f.track_id is not None and f.signature is not None
            assert seen.setdefault(f.track_id, shot_of[i]) == shot_of[i]


def _record(frame: int, shot: int, *flags: str) -> FrameRecord:
    return FrameRecord(frame, 1, 0, 0.9, 0.9, None, True, None, "landmark", flags=flags, shot=shot)


def test_review_lists_one_range_per_problem_per_shot() -> None:
    records = [_record(i, 0, "jitter_spike") for i in (3, 4, 9, 20, 31)]  # on and off in one shot
    records += [_record(40, 1, "jitter_spike"), _record(41, 1, "bystander", "jitter_spike")]
    records += [_record(200, 1, "jitter_spike")]  # the same problem long after: a new range
    ranges = [(r.flag, r.shot, r.start, r.stop, r.frames) for r in review_ranges(records, gap=50)]
    assert ranges == [
        ("jitter_spike", 0, 3, 31, 5),
        ("jitter_spike", 1, 40, 41, 2),
        ("bystander", 1, 41, 41, 1),
        ("jitter_spike", 1, 200, 200, 1),
    ]
