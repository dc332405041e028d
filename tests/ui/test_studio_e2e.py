"""The whole studio loop on the real window and a real local engine (a child process), offscreen:
drop photos and a voice → persona (consent required); open the talk clip and step to an exact frame;
render a clip with a no-face gap through the queue; the review lists that gap; re-render one range
and only its frames change; undo/redo a segment edit; close, reopen the project, everything is back."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDoubleSpinBox, QFileDialog
from pytestqt.qtbot import QtBot

from layer_desktop.engine.media.reader import FrameReader
from layer_desktop.engine.personas import PersonaStore
from layer_desktop.engine.server.home import EngineHome
from layer_desktop.ui.main_window import MainWindow
from layer_desktop.ui.widgets.consent_dialog import ConsentDialog
from layer_desktop.ui.widgets.rerender_dialog import RerenderDialog
from tests.clips import decode, make_covered_face_clip
from tests.conftest import SHARED_MEDIA
from tests.ui.studio_driver import drop, focus_window, image_array, open_window

TALK = SHARED_MEDIA / "clips" / "talk_astronaut_4s.mp4"
FACES = [SHARED_MEDIA / "faces" / "grace_hopper.jpg", SHARED_MEDIA / "faces" / "astronaut.png"]
VOICE = SHARED_MEDIA / "audio" / "arctic_a0009_female.wav"


def _create_persona_by_drop(window: MainWindow, qtbot: QtBot) -> None:
    drop(window, [*FACES, VOICE])
    panel = window.persona_panel
    qtbot.waitUntil(lambda: isinstance(panel.pending_dialog, ConsentDialog), timeout=30_000)
    dialog = panel.pending_dialog
    assert isinstance(dialog, ConsentDialog)
    dialog.name_edit.setText("Grace Test")
    assert not dialog.ok_button.isEnabled()  # no consent yet: the persona cannot be made
    dialog.given_by_edit.setText("Grace Hopper (public-domain portrait)")
    assert not dialog.ok_button.isEnabled()
    dialog.consent_check.setChecked(True)
    assert dialog.ok_button.isEnabled()
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.library.active == "Grace Test", timeout=30_000)
    persona = PersonaStore().get("Grace Test")
    assert len(persona.faces) == 2 and len(persona.voices) == 1
    assert persona.consent.given_by == "Grace Hopper (public-domain portrait)"
    assert window.project.state.persona == "Grace Test"


def _step_to_exact_frame(window: MainWindow, qtbot: QtBot, n: int) -> None:
    drop(window, [TALK])
    qtbot.waitUntil(
        lambda: window.document.frame_count == 100 and window.document.current == 0, timeout=20_000
    )
    window.view_source()
    focus_window(window, qtbot)
    for _ in range(n):
        qtbot.keyClick(window, Qt.Key.Key_Right)
    qtbot.waitUntil(lambda: window.document.current == n, timeout=10_000)
    with FrameReader(TALK) as reader:
        expected = reader.frame_at(n, rotate=True).image
    assert np.array_equal(image_array(window.viewer.displayed_image()), expected)
    assert window.viewer.caption.text().startswith(f"Frame {n} / 99   00:00:00:{n:02d}")  # 0-based, 25 fps


def _render_and_review(window: MainWindow, qtbot: QtBot, clip: Path) -> Path:
    drop(window, [clip])
    qtbot.waitUntil(lambda: window.document.frame_count == 75, timeout=20_000)
    qtbot.keyClick(window, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    dialog = window.render_dialog
    assert dialog is not None
    dialog.path_edit.setText(str(clip.with_name("gap-render.mp4")))
    qtbot.mouseClick(dialog.render_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(window.ranges) or window.last_error is not None, timeout=240_000)
    assert window.last_error is None, window.last_error
    no_face = [r for r in window.ranges if "no_face" in r.flags]
    assert len(no_face) == 1 and abs(no_face[0].start - 30) <= 1 and abs(no_face[0].stop - 49) <= 1
    panel = window.review_panel
    assert any("No face" in panel.row_text(i) for i in range(panel.list.count()))
    output = Path(window.project.state.output or "")
    assert output.is_file() and window.project.state.job_id
    # accept the gap (the covered frames stay as they are): the verdict is in the project and on the row
    panel.select_range(window.ranges.index(no_face[0]))
    qtbot.waitUntil(lambda: window.document.current == no_face[0].start, timeout=10_000)
    qtbot.mouseClick(panel.accept_button, Qt.MouseButton.LeftButton)
    assert window.project.state.review[no_face[0].key] == "accepted"
    assert "accepted" in panel.row_text(window.ranges.index(no_face[0]))
    return output


def _rerender_one_range(window: MainWindow, qtbot: QtBot, output: Path) -> None:
    before = decode(output)
    queue = window.queue
    assert queue is not None
    job = queue.jobs[window.project.state.job_id or ""]
    panel = window.review_panel
    panel.rerender_current()
    dialog = panel.pending_dialog
    assert isinstance(dialog, RerenderDialog)
    dialog.start_box.setValue(62)
    dialog.stop_box.setValue(70)
    feather = dialog.editors["feather"]
    assert isinstance(feather, QDoubleSpinBox)
    feather.setValue(0.3)
    dialog.accept()
    qtbot.waitUntil(lambda: not job.downloaded, timeout=30_000)
    qtbot.waitUntil(lambda: job.downloaded or window.last_error is not None, timeout=240_000)
    assert window.last_error is None, window.last_error
    after = decode(output)
    assert len(after) == len(before) == 75
    for i in range(60):  # the first chunk (frames 0–59) was not encoded again: identical bytes
        assert np.array_equal(before[i], after[i]), f"frame {i} changed"
    changed = [float(np.abs(before[i].astype(int) - after[i]).mean()) for i in range(62, 71)]
    assert max(changed) > 0.3, changed  # a wider feather really changed the re-rendered frames
    segment = window.project.state.segments[-1]
    assert (
        (segment.start, segment.stop) == (62, 70) and segment.swap is not None and segment.swap.feather == 0.3
    )
    assert window.project.state.review["62-70"] == "rerendered"


def _undo_redo_segment_edit(window: MainWindow, qtbot: QtBot) -> None:
    segments = window.project.state.segments
    count = len(segments)
    window.timeline.segment_edges_changed.emit(count - 1, 62, 72)  # drag the last segment's right edge
    focus_window(window, qtbot)
    assert window.project.state.segments[-1].stop == 72
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.project.state.segments == segments
    qtbot.keyClick(
        window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    )
    assert window.project.state.segments[-1].stop == 72
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.project.state.segments == segments


@pytest.mark.slow
def test_the_studio_end_to_end(qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAYER_AUDIO_BACKEND", "null")
    clip = make_covered_face_clip(tmp_path / "covered_face.mp4")
    home = EngineHome(tmp_path / "engine")
    window = open_window(qtbot, home)
    _create_persona_by_drop(window, qtbot)
    _step_to_exact_frame(window, qtbot, 7)
    output = _render_and_review(window, qtbot, clip)
    _rerender_one_range(window, qtbot, output)
    _undo_redo_segment_edit(window, qtbot)

    project = tmp_path / "gap.layer"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(project), ""))
    window.view_wipe()
    window.document.request_frame(40)
    qtbot.waitUntil(lambda: window.document.current == 40, timeout=10_000)
    focus_window(window, qtbot)
    qtbot.keyClick(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert project.is_file() and not window.project.is_dirty
    saved = window.project.state
    window.close()

    again = open_window(qtbot, home)
    again.open_project(project)
    qtbot.waitUntil(lambda: again.document.frame_count == 75 and again.document.current == 40, timeout=30_000)
    qtbot.waitUntil(lambda: len(again.ranges) == len(saved.review) - 1 or bool(again.ranges), timeout=60_000)
    state = again.project.state
    assert state.model_copy(update={"current_frame": 0}) == saved.model_copy(update={"current_frame": 0})
    assert again.viewer.mode == "wipe" and again.library.active == "Grace Test"
    assert [s.stop for s in again.project.state.segments] == [s.stop for s in saved.segments]
    key = next(r.key for r in again.ranges if "no_face" in r.flags)
    assert "accepted" in again.review_panel.row_text([r.key for r in again.ranges].index(key))
    qtbot.waitUntil(lambda: again.processed.rendered == output, timeout=10_000)
    qtbot.waitUntil(lambda: again.viewer.has_processed, timeout=30_000)  # the render, beside the source
    again.close()
