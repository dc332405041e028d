"""A re-render that fails on the engine (the inswapper backend without its model) shows the error
dialog with the engine's reason and leaves the Review row, the timeline and the status bar as they were."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QComboBox
from pytestqt.qtbot import QtBot

from layer_desktop.engine.server.home import EngineHome
from layer_desktop.ui.widgets.rerender_dialog import RerenderDialog
from tests.clips import make_covered_face_clip
from tests.ui.studio_driver import close_error_dialogs, error_dialog, open_window


@pytest.mark.slow
def test_a_failed_rerender_changes_nothing_and_says_why(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAYER_AUDIO_BACKEND", "null")
    clip = make_covered_face_clip(tmp_path / "covered_face.mp4")
    window = open_window(qtbot, EngineHome(tmp_path / "engine"))
    window.open_demo()  # the demo persona
    qtbot.waitUntil(lambda: bool(window.project.state.persona), timeout=60_000)
    window.open_path(clip)
    qtbot.waitUntil(lambda: window.document.frame_count == 75, timeout=20_000)
    window.render_again()
    qtbot.waitUntil(lambda: bool(window.ranges) or window.last_error is not None, timeout=240_000)
    assert window.last_error is None, window.last_error
    queue = window.queue
    assert queue is not None
    job = queue.jobs[window.project.state.job_id or ""]
    panel = window.review_panel
    panel.select_range(0)
    rows = [panel.row_text(i) for i in range(panel.list.count())]
    segments, timeline = window.project.state.segments, list(window.timeline._segments)
    status = window.statusBar().currentMessage()
    undo_count = window.project.undo_stack.count()

    panel.rerender_current()
    dialog = panel.pending_dialog
    assert isinstance(dialog, RerenderDialog)
    backend = dialog.editors["backend"]
    assert isinstance(backend, QComboBox)
    backend.setCurrentText("inswapper")
    dialog.start_box.setValue(5)  # frames with a face: the swap model is needed there
    dialog.stop_box.setValue(12)
    dialog.accept()
    assert window.statusBar().currentMessage().startswith("Re-rendering frames")
    qtbot.waitUntil(lambda: error_dialog(window) is not None, timeout=120_000)
    box = error_dialog(window)
    assert box is not None and "inswapper" in (box.text() + box.informativeText()).lower(), box.text()
    assert job.info.state == "failed"
    assert [panel.row_text(i) for i in range(panel.list.count())] == rows  # not "re-rendered"
    assert window.project.state.segments == segments and window.timeline._segments == timeline
    assert window.project.undo_stack.count() == undo_count
    assert window.statusBar().currentMessage() == status
    close_error_dialogs(window)
    window.close()
