"""The studio's talking-head mode on a real local engine: File › New talking head, a kit photo and a
typed script, Preview plays the first seconds in the dialog, Render goes through the queue, and the
finished video opens in the viewer and plays. Screenshots go to $LAYER_SCREENSHOTS when it is set."""

from __future__ import annotations

import os
from pathlib import Path

import av
import pytest
from pytestqt.qtbot import QtBot

from layer_desktop.engine.server.home import EngineHome
from layer_desktop.ui.main_window import MainWindow
from tests.conftest import SHARED_MEDIA

pytestmark = pytest.mark.slow
SHOTS = os.environ.get("LAYER_SCREENSHOTS")


def _shot(widget: object, name: str) -> None:
    if SHOTS:
        widget.grab().save(str(Path(SHOTS) / name))  # type: ignore[attr-defined]


def test_talking_head_mode_previews_renders_through_the_queue_and_plays(qtbot: QtBot, tmp_path: Path) -> None:
    window = MainWindow(engine=True, engine_home=EngineHome(tmp_path / "engine"))
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: "Local CPU" in window.engine_label.text(), timeout=60_000)
    window.actions_by_name["new_talking_head"].trigger()  # File › New talking head (Ctrl+T)
    dialog = window.talk_dialog
    assert dialog is not None and dialog.isVisible()
    dialog.photo.setText(str(SHARED_MEDIA / "faces" / "astronaut.png"))
    dialog.script.setPlainText("Meet the bamboo bottle. It keeps water cold all day.")
    assert dialog.count.text().startswith("52 / ")
    dialog.size.setCurrentText("256")
    target = tmp_path / "out" / "talk.mp4"
    dialog.output.setText(str(target))
    dialog.preview_button.click()
    qtbot.waitUntil(lambda: dialog.previewing or window.last_error is not None, timeout=60_000)
    assert window.last_error is None, window.last_error
    assert dialog.preview.pixmap().width() > 200
    _shot(dialog, "talk_dialog_preview.png")

    dialog.render_button.click()
    queue = window.queue
    assert queue is not None
    playing = lambda: window.player.playing or window.last_error is not None  # noqa: E731
    qtbot.waitUntil(playing, timeout=180_000)
    assert window.last_error is None, window.last_error
    ((_, job),) = queue.jobs.items()
    assert job.info.kind == "talk" and job.info.state == "done" and job.downloaded
    assert window.document.path == target and window.document.frame_count > 50
    assert len(window.player.audio.pcm) > 0  # it plays with its speech
    with av.open(str(target)) as c:
        assert c.metadata["layer_mode"] == "talking_head" and c.streams.video[0].average_rate == 25
    qtbot.waitUntil(lambda: window.document.current > 0, timeout=20_000)  # it plays on
    _shot(window, "talk_mode_playing.png")
    window.close()
