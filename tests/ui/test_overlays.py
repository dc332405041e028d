"""Face overlays: the ids drawn are the face tracks of the transform job's own analysis (what ``track:N``
picks), found by a background pass that stops and resumes; before a frame is tracked it is detected on
its own, without an id."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from layer_desktop.engine.media.reader import FrameReader
from layer_desktop.engine.pipeline.analysis import analyse, chunk_file
from layer_desktop.paths import app_paths
from layer_desktop.ui.overlays import FaceOverlays, prune_tracks, tracks_folder, tracks_key
from layer_desktop.ui.tasks import TaskManager


@pytest.fixture
def overlays(qtbot: QtBot) -> Iterator[FaceOverlays]:
    tasks = TaskManager()
    o = FaceOverlays(tasks)
    yield o
    o.close()
    tasks.shutdown()


def faces_at(qtbot: QtBot, overlays: FaceOverlays, reader: FrameReader, index: int) -> list[dict[str, Any]]:
    with qtbot.waitSignal(overlays.ready, timeout=30_000) as got:
        overlays.request(index, reader.frame_at(index, rotate=True).image)
    assert got.args is not None
    shown, faces = got.args[0]
    assert shown == index
    return list(faces)


def test_overlay_ids_are_the_render_analysis_tracks(
    qtbot: QtBot, overlays: FaceOverlays, media_dir: Path, tmp_path: Path
) -> None:
    clip = media_dir / "clips" / "talk_two_faces_4s.mp4"
    reader = FrameReader(clip)
    overlays.set_source(clip)
    overlays.enabled = True  # on, without the tracking pass: each frame is detected on its own
    untracked = faces_at(qtbot, overlays, reader, 30)
    assert len(untracked) == 2 and all(f["track"] is None for f in untracked)

    with qtbot.waitSignal(overlays.tracking, timeout=120_000, check_params_cb=lambda d, t: d == t):
        overlays.set_enabled(True)
    assert overlays.tracked == reader.frame_count
    key = tracks_key(clip)
    reference = analyse(FrameReader(clip), tmp_path / "job-analysis", key)  # what a render computes
    for index in (0, 30, reader.frame_count - 1):
        faces = faces_at(qtbot, overlays, reader, index)
        expected = {f.track_id: f.bbox for f in reference[index]}
        shown = {f["track"]: f["bbox"] for f in faces}
        assert shown.keys() == expected.keys()
        assert all(shown[t] == pytest.approx(expected[t], abs=1e-3) for t in expected)
    first, last = (faces_at(qtbot, overlays, reader, i) for i in (0, reader.frame_count - 1))
    ids = sorted(f["track"] for f in first)
    assert len(ids) == 2 and sorted(f["track"] for f in last) == ids  # two faces keep their ids
    left = min(first, key=lambda f: f["bbox"][0])["track"]
    assert min(last, key=lambda f: f["bbox"][0])["track"] == left
    assert chunk_file(tracks_folder(key), 0).is_file()  # kept in the cache for the next session


def test_turning_overlays_off_stops_the_pass_and_on_resumes_it(
    qtbot: QtBot, overlays: FaceOverlays, media_dir: Path
) -> None:
    clip = media_dir / "clips" / "talk_astronaut_4s.mp4"
    overlays.set_source(clip)
    with qtbot.waitSignal(overlays.tracking, timeout=120_000, check_params_cb=lambda d, t: d >= 60):
        overlays.set_enabled(True)  # the first chunk (60 frames) is done
    overlays.set_enabled(False)
    qtbot.waitUntil(lambda: not overlays._pass_running, timeout=30_000)
    folder = tracks_folder(tracks_key(clip))
    kept = sorted(p.name for p in folder.glob("faces_*.npz"))
    assert kept == ["faces_00000.npz"]  # stopped within the second chunk
    stamp = chunk_file(folder, 0).stat().st_mtime_ns
    with qtbot.waitSignal(overlays.tracking, timeout=120_000, check_params_cb=lambda d, t: d == t):
        overlays.set_enabled(True)
    assert overlays.tracked == 100 and chunk_file(folder, 1).is_file()
    assert chunk_file(folder, 0).stat().st_mtime_ns == stamp  # resumed: the first chunk was not redone


def test_the_cache_keeps_the_tracks_of_the_clips_used_last() -> None:
    root = app_paths().cache_dir / "face-tracks"
    for age, name in enumerate(["newest", "middle", "oldest"]):
        (root / name).mkdir(parents=True)
        (root / name / "faces_00000.npz").write_bytes(b"x")
        stamp = 1_700_000_000 - age * 1000
        os.utime(root / name, (stamp, stamp))
    prune_tracks(keep=2)
    assert sorted(p.name for p in root.iterdir()) == ["middle", "newest"]
