"""Click-to-target: clicking the second face (left to right) of the two-faces clip in the viewer makes
it the project's target (``track:N``: outlined, listed in the Media tab); a render on the real local
engine then changes only that face — compared with a render that swaps nothing, the picture differs
inside its box and nowhere else."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from pytestqt.qtbot import QtBot

from layer_desktop.engine.pipeline.spec import Disclosure, Segment
from layer_desktop.engine.server.home import EngineHome
from layer_desktop.ui.main_window import MainWindow
from tests.clips import decode
from tests.conftest import SHARED_MEDIA
from tests.ui.studio_driver import open_window

FRAMES = 30


def _two_faces_excerpt(path: Path) -> Path:
    """The first 30 frames of the two-faces clip (640×360), no audio: a short render."""
    frames = decode(SHARED_MEDIA / "clips" / "talk_two_faces_4s.mp4")[:FRAMES]
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=30, options={"crf": "12", "preset": "veryfast"})
        stream.width, stream.height, stream.pix_fmt = 640, 360, "yuv420p"
        for img in frames:
            out.mux(stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")))
        out.mux(stream.encode(None))
    return path


def _tracked_faces(window: MainWindow, qtbot: QtBot, frame: int) -> list[dict[str, Any]]:
    window.document.request_frame(frame)
    qtbot.waitUntil(
        lambda: (
            window.document.current == frame
            and len(window.viewer.overlays) == 2
            and all(f.get("track") is not None for f in window.viewer.overlays)
        ),
        timeout=120_000,
    )
    return sorted(window.viewer.overlays, key=lambda f: float(f["bbox"][0]))  # left to right


def _click_face(window: MainWindow, qtbot: QtBot, face: dict[str, Any]) -> None:
    viewer = window.viewer
    rect = viewer.image_rect()
    scale = rect.height() / viewer.displayed_image().height()  # source mode: one frame, fit
    x0, y0, x1, y1 = (float(v) for v in face["bbox"])
    at = QPoint(round(rect.left() + (x0 + x1) / 2 * scale), round(rect.top() + (y0 + y1) / 2 * scale))
    qtbot.mouseClick(viewer, Qt.MouseButton.LeftButton, pos=at)


def _render(window: MainWindow, qtbot: QtBot, spec: Any) -> Path:
    queue = window.queue
    assert queue is not None
    target = Path(spec.output)
    queue.submit(spec)
    qtbot.waitUntil(
        lambda: (
            any(j.downloaded and j.target == target for j in queue.jobs.values())
            or window.last_error is not None
        ),
        timeout=300_000,
    )
    assert window.last_error is None, window.last_error
    return target


def _box_mask(shape: tuple[int, ...], bbox: Any, grow: float) -> np.ndarray:
    x0, y0, x1, y1 = (float(v) for v in bbox)
    dx, dy = (x1 - x0) * grow, (y1 - y0) * grow
    mask = np.zeros(shape[:2], bool)
    mask[max(int(y0 - dy), 0) : int(y1 + dy) + 1, max(int(x0 - dx), 0) : int(x1 + dx) + 1] = True
    return mask


@pytest.mark.slow
def test_clicking_the_second_face_swaps_only_that_face(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAYER_AUDIO_BACKEND", "null")
    clip = _two_faces_excerpt(tmp_path / "two_faces.mp4")
    window = open_window(qtbot, EngineHome(tmp_path / "engine"))
    window.open_demo()
    qtbot.waitUntil(lambda: bool(window.project.state.persona), timeout=60_000)
    window.open_path(clip)
    qtbot.waitUntil(lambda: window.document.frame_count == FRAMES, timeout=20_000)
    window.view_source()
    window.transport.overlays.setChecked(True)
    faces = {frame: _tracked_faces(window, qtbot, frame) for frame in (20, 0)}
    second = faces[0][1]
    _click_face(window, qtbot, second)
    track = int(second["track"])
    assert window.project.state.face == f"track:{track}"
    assert window.viewer.target_track == track and f"track:{track}" in window.info_label.text()

    state = window.project.state
    # two jobs compared pixel by pixel: without the invisible watermark (each job's payload differs; the
    # real-footage bystander test bounds it, tests/engine/pipeline/test_real_footage.py)
    unmarked = {"disclosure": Disclosure(watermark=False)}
    swapped = _render(window, qtbot, state.to_spec(str(tmp_path / "target.mp4")).model_copy(update=unmarked))
    plain = state.model_copy(update={"segments": (Segment(start=0, stop=FRAMES - 1, enabled=False),)})
    reference = _render(
        window, qtbot, plain.to_spec(str(tmp_path / "no-swap.mp4")).model_copy(update=unmarked)
    )
    out, ref = decode(swapped), decode(reference)
    assert len(out) == len(ref) == FRAMES
    for frame, (left, right) in faces.items():
        assert right["track"] == track and left["track"] != track
        diff = np.abs(out[frame].astype(np.int16) - ref[frame]).mean(axis=2)
        inside = diff[_box_mask(diff.shape, right["bbox"], 0.0)].mean()
        # the other face: no 8x8 block moves by more than re-encoding does (as in the real-footage
        # bystander test; two encodes of different frames differ by ~1 level mean in a textured face)
        x0, y0, x1, y1 = (int(v) for v in left["bbox"])
        other = float(cv2.blur(diff[y0 : y1 + 1, x0 : x1 + 1].astype(np.float32), (8, 8)).max())
        elsewhere = diff[~_box_mask(diff.shape, right["bbox"], 0.35)].mean()
        assert inside > 4.0, (frame, inside)  # the target face was swapped
        assert other < 10.0 and elsewhere < 1.0, (frame, other, elsewhere)  # nothing else changed
    window.close()
