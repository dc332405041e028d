"""The first frame shown after opening a video is the video's frame 0, pixel for pixel (also when one
video is opened over another, for rotated, edit-listed and mid-GOP files), and a processed frame made
for the previous video is never shown over the new one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from pytestqt.qtbot import QtBot

from layer_desktop.engine.media.reader import FrameReader
from layer_desktop.ui.processed import ProcessedFrames
from layer_desktop.ui.tasks import TaskManager
from tests.ui.studio_driver import image_array, open_window


def _frame0(path: Path) -> np.ndarray:
    with FrameReader(path) as reader:
        return reader.frame_at(0, rotate=True).image


def test_the_first_frame_shown_is_frame_0(qtbot: QtBot, media_dir: Path, zoo: Callable[[str], Path]) -> None:
    window = open_window(qtbot)
    window.viewer.set_mode("processed")  # a compare mode kept from before: the source shows until rendered
    clips = [media_dir / "clips" / "talk_astronaut_4s.mp4", media_dir / "clips" / "vfr_rotated.mp4",
             zoo("edit_list"), zoo("ts_cut_mid_gop")]  # fmt: skip
    for clip in clips:  # each opened over the one before
        first: list[np.ndarray] = []

        def shown(_frame: object, into: list[np.ndarray] = first) -> None:
            if not into:  # what the viewer holds right after the first frame arrived
                into.append(image_array(window.viewer.displayed_image()))

        window.document.frame_ready.connect(shown)
        window.open_path(clip)
        qtbot.waitUntil(lambda got=first: bool(got), timeout=20_000)
        window.document.frame_ready.disconnect(shown)
        expected = _frame0(clip)
        assert window.document.path == clip and window.document.current == 0
        assert first[0].shape == expected.shape and np.array_equal(first[0], expected), clip.name
        painted = image_array(window.viewer.grab().toImage())
        assert painted.mean() > 20, f"{clip.name}: the viewer painted black"
    window.close()


def test_a_processed_frame_of_the_previous_video_is_dropped(qtbot: QtBot, media_dir: Path) -> None:
    tasks = TaskManager()
    processed = ProcessedFrames(tasks, None)
    first, second = media_dir / "clips" / "talk_astronaut_4s.mp4", media_dir / "clips" / "no_face_3s.mp4"
    got: list[tuple[int, np.ndarray]] = []
    processed.ready.connect(got.append)
    try:
        processed.set_source(first)
        processed.set_rendered(first)  # frames of a finished "render" of the first video
        processed.request(0)
        processed.set_source(second)  # another video opened while frame 0 of the first was decoding
        qtbot.waitUntil(lambda: not processed._in_flight, timeout=10_000)
        assert got == []
        processed.set_rendered(second)
        processed.request(0)
        qtbot.waitUntil(lambda: bool(got), timeout=10_000)
        assert got[0][0] == 0 and np.array_equal(got[0][1], _frame0(second))
    finally:
        tasks.shutdown()
        processed.close()
