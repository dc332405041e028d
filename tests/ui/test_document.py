"""The media document when a frame is asked for while another file is opening (the studio opens the
demo, then the user's file, and the timeline asks for a frame meanwhile): that request, made for the old
decoder, is dropped instead of running on a closed one; nothing reports an error, and once the new file
is open only its frames are shown, starting with its first."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pytestqt.qtbot import QtBot

from layer_desktop.engine.media.reader import FrameReader
from layer_desktop.ui import document
from layer_desktop.ui.document import MediaDocument
from layer_desktop.ui.tasks import TaskManager
from tests.conftest import SHARED_MEDIA

FIRST = SHARED_MEDIA / "clips" / "talk_astronaut_4s.mp4"
SECOND = SHARED_MEDIA / "clips" / "talk_two_faces_4s.mp4"


def test_a_frame_asked_for_while_another_file_opens_is_dropped(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    probing, release = threading.Event(), threading.Event()
    original = document.probe

    def slow_second_file(path: Path) -> Any:
        if Path(path) == SECOND:
            probing.set()
            release.wait(10)  # the timeline asks for a frame meanwhile
        return original(path)

    monkeypatch.setattr(document, "probe", slow_second_file)
    tasks = TaskManager()
    doc = MediaDocument(tasks)
    errors: list[BaseException] = []
    shown: list[Any] = []
    events: list[str] = []
    doc.failed.connect(errors.append)
    doc.frame_ready.connect(shown.append)
    doc.opened.connect(lambda _: events.append("opened"))
    doc.frame_ready.connect(lambda f: events.append(f"frame {f.index}"))
    try:
        doc.open(FIRST)
        qtbot.waitUntil(lambda: doc.frame_count > 0 and bool(shown), timeout=20_000)
        events.clear()
        doc.open(SECOND)
        assert probing.wait(10)
        doc.request_frame(40)  # queued behind the opening, for the first file's decoder
        release.set()
        qtbot.waitUntil(
            lambda: "opened" in events and doc.current == 0 and doc.path == SECOND, timeout=20_000
        )
        qtbot.wait(300)  # time for the stale request's frame to arrive, if it were shown
        with FrameReader(SECOND) as reader:
            expected = reader.frame_at(0, rotate=True).image
        assert errors == []
        assert events[events.index("opened") + 1 :] == ["frame 0"], events
        assert np.array_equal(shown[-1].image, expected)
    finally:
        release.set()
        tasks.shutdown()
        doc.close()
