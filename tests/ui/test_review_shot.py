"""Accept all in this shot: every range still to review in the selected range's shot is accepted in one
undoable step (Alt+A, the button or the Render menu); ranges of other shots stay to review."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from layer_desktop.engine.pipeline.records import FrameRecord
from layer_desktop.ui.review import FlaggedRange, flagged_ranges
from tests.ui.studio_driver import focus_window, open_window

CUT = 50  # the engine's shot 1 starts here
FLAGGED = (range(10, 15), range(30, 40), range(60, 65))  # two ranges in shot 0, one in shot 1


def _records() -> list[dict[str, object]]:
    """The engine's frame records (as ``GET /v1/jobs/{id}/records`` sends them) of a 100-frame render
    with a face lost in the ranges of ``FLAGGED``."""
    lost = {f for r in FLAGGED for f in r}
    return [
        FrameRecord(frame=f, faces_found=0 if f in lost else 1, track=None if f in lost else 1,
                    confidence=None, presence=None, jitter=None, applied=f not in lost,
                    skip_reason="no face" if f in lost else None, backend="landmark",
                    flags=("no_face", "face_lost") if f in lost else (), shot=0 if f < CUT else 1).to_dict()
        for f in range(100)
    ]  # fmt: skip


def test_ranges_carry_their_shot() -> None:
    ranges = flagged_ranges(_records())
    assert [(r.start, r.stop, r.shot) for r in ranges] == [(10, 14, 0), (30, 39, 0), (60, 64, 1)]


def test_accept_all_in_this_shot_is_one_undoable_step(qtbot: QtBot, media_dir: Path) -> None:
    window = open_window(qtbot)
    window.open_path(media_dir / "clips" / "talk_astronaut_4s.mp4")
    qtbot.waitUntil(lambda: window.document.frame_count == 100, timeout=20_000)
    ranges: list[FlaggedRange] = flagged_ranges(_records())
    window.ranges = ranges  # as a finished render's review loads them
    panel = window.review_panel
    panel.set_ranges(ranges, {})
    panel.select_range(1)  # a range of shot 0 (not its first)
    assert panel.accept_shot_button.isEnabled()
    undo = window.project.undo_stack
    steps = undo.count()
    focus_window(window, qtbot)
    qtbot.keyClick(window, Qt.Key.Key_A, Qt.KeyboardModifier.AltModifier)
    assert window.project.state.review == {"10-14": "accepted", "30-39": "accepted"}
    assert undo.count() == steps + 1  # one step for the whole shot
    assert panel.current_range() == ranges[2]  # on to the next range still to review
    assert "to review" in panel.row_text(2) and "accepted" in panel.row_text(0)
    assert panel.accept_shot_button.isEnabled()
    undo.undo()
    assert window.project.state.review == {}
    assert all("to review" in panel.row_text(i) for i in range(3))
    undo.redo()
    assert set(window.project.state.review) == {"10-14", "30-39"}
    panel.select_range(0)  # shot 0 is done: nothing left to accept there
    assert not panel.accept_shot_button.isEnabled()
    qtbot.mouseClick(panel.accept_shot_button, Qt.MouseButton.LeftButton)
    assert undo.count() == steps + 1
    panel.select_range(2)
    window.actions_by_name["review_accept_shot"].trigger()  # Render › Accept all in this shot
    assert window.project.state.review == {"10-14": "accepted", "30-39": "accepted", "60-64": "accepted"}
    window.close()
