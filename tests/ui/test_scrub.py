"""Scrubbing: while the playhead is dragged the frame comes from the scrub proxy (built in the
background, in the cache); once it rests, the exact frame replaces it, pixel for pixel `frame_at`."""

from __future__ import annotations

import numpy as np
from pytestqt.qtbot import QtBot

from layer_desktop.engine.media.reader import FrameReader
from tests.conftest import SHARED_MEDIA
from tests.ui.studio_driver import drop, image_array, open_window

TALK = SHARED_MEDIA / "clips" / "talk_astronaut_4s.mp4"


def test_dragging_shows_the_proxy_then_the_exact_frame(qtbot: QtBot) -> None:
    window = open_window(qtbot)
    with qtbot.waitSignal(window.scrub.built, timeout=60_000):
        drop(window, [TALK])
    qtbot.waitUntil(lambda: window.document.frame_count == 100, timeout=20_000)
    folder = window.document.proxy_folder
    assert folder is not None and (folder / "part-0000.mp4").is_file()
    shown: list[tuple[int, bool]] = []
    window.document.frame_ready.connect(lambda f: shown.append((f.index, window.document.shown_proxy)))
    for frame in (10, 35, 61, 37):  # a drag: seek after seek
        window.timeline.seek_requested.emit(frame)
    qtbot.waitUntil(lambda: bool(shown) and shown[-1] == (37, False), timeout=10_000)
    assert (37, True) in shown  # the proxy's frame came first, while "dragging"
    with FrameReader(TALK) as reader:
        expected = reader.frame_at(37, rotate=True).image
    assert np.array_equal(image_array(window.viewer.displayed_image()), expected)  # then the exact one
    window.close()
