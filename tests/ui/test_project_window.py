"""Projects in the window: unsaved work comes back after a crash, keyboard edits are undoable, and a
project file named on the command line opens."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from layer_desktop.ui.app import parse_args
from layer_desktop.ui.project import autosave_file
from tests.conftest import SHARED_MEDIA
from tests.ui.studio_driver import drop, focus_window, open_window

TALK = SHARED_MEDIA / "clips" / "talk_astronaut_4s.mp4"


def test_unsaved_work_is_restored_after_the_app_dies(qtbot: QtBot) -> None:
    window = open_window(qtbot)
    drop(window, [TALK])
    qtbot.waitUntil(lambda: window.document.frame_count == 100, timeout=20_000)
    window.document.request_frame(20)
    qtbot.waitUntil(lambda: window.document.current == 20, timeout=10_000)
    focus_window(window, qtbot)
    qtbot.keyClick(window, Qt.Key.Key_I)  # in point at 20
    window.document.request_frame(45)
    qtbot.waitUntil(lambda: window.document.current == 45, timeout=10_000)
    qtbot.keyClick(window, Qt.Key.Key_O)  # out point at 45
    qtbot.keyClick(
        window, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    )
    qtbot.keyClick(window, Qt.Key.Key_M)  # a marker at 45
    state = window.project.state
    assert [(s.start, s.stop) for s in state.segments] == [(20, 45)] and state.markers == (45,)
    qtbot.waitUntil(autosave_file().is_file, timeout=10_000)  # the debounced autosave, no Save pressed
    qtbot.waitUntil(lambda: b"45" in autosave_file().read_bytes(), timeout=10_000)
    window.project._autosave.stop()  # the app "dies" here: no Save, nothing written after this point
    window.hide()

    again = open_window(qtbot)
    assert again.restore_unsaved()
    qtbot.waitUntil(
        lambda: again.document.frame_count == 100 and again.document.current == 45, timeout=20_000
    )
    restored = again.project.state
    assert restored.segments == state.segments and restored.markers == state.markers
    assert (restored.in_point, restored.out_point) == (20, 45)
    again.close()


def test_the_command_line_takes_a_project_file() -> None:
    assert parse_args(["work.layer"]).file == Path("work.layer")
    assert parse_args([]).file is None


def test_review_keys_work_whatever_has_focus_and_move_on(qtbot: QtBot) -> None:
    from layer_desktop.ui.review import FlaggedRange

    window = open_window(qtbot)
    drop(window, [TALK])
    qtbot.waitUntil(lambda: window.document.frame_count == 100, timeout=20_000)
    ranges = [FlaggedRange(10, 19, ("no_face",), 10), FlaggedRange(40, 44, ("jitter_spike",), 5),
              FlaggedRange(70, 72, ("no_face",), 3)]  # fmt: skip
    window.ranges = ranges
    window.review_panel.set_ranges(ranges, {})
    window.review_panel.select_range(0)
    qtbot.waitUntil(lambda: window.document.current == 10, timeout=10_000)
    window.viewer.setFocus()  # not the review list
    focus_window(window, qtbot)
    qtbot.keyClick(window.viewer, Qt.Key.Key_A)
    assert window.project.state.review == {"10-19": "accepted"}
    assert window.review_panel.current_range() == ranges[1]  # moved on to the next range
    qtbot.waitUntil(lambda: window.document.current == 40, timeout=10_000)
    qtbot.keyClick(window.viewer, Qt.Key.Key_O)  # O is the out point, never "keep original"
    assert window.project.state.out_point == 40 and "40-44" not in window.project.state.review
    assert (
        "(X)" in window.review_panel.keep_button.text() and "(A)" in window.review_panel.accept_button.text()
    )
    qtbot.keyClick(window.viewer, Qt.Key.Key_A, Qt.KeyboardModifier.ShiftModifier)  # accept all left
    assert window.project.state.review == {k: "accepted" for k in ("10-19", "40-44", "70-72")}
    window.project.undo_stack.undo()  # one step undoes the whole "accept all"
    assert window.project.state.review == {"10-19": "accepted"}
    window.close()
