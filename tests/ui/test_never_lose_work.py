"""Never lose work: opening another video over unsaved work asks (Cancel keeps it, Save saves it);
reopening a video offers its last project; the next start restores the project open at quit."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox
from pytestqt.qtbot import QtBot

from layer_desktop.ui.project import load_project
from tests.conftest import SHARED_MEDIA
from tests.ui.studio_driver import open_window

TALK = SHARED_MEDIA / "clips" / "talk_astronaut_4s.mp4"
TWO = SHARED_MEDIA / "clips" / "talk_two_faces_4s.mp4"
Btn = QMessageBox.StandardButton


class ModalAnswers:
    """Answers the next modal message box with ``button`` and records what it said."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self._tries = 0

    def answer(self, button: Btn) -> None:
        self._tries = 0
        QTimer.singleShot(0, lambda: self._click(button))

    def _click(self, button: Btn) -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            self.seen.append(f"{box.objectName()}: {box.text()}")
            box.button(button).click()
        elif self._tries < 250:  # the box is not up yet: look again shortly (5 s at most)
            self._tries += 1
            QTimer.singleShot(20, lambda: self._click(button))


def _open(window, qtbot: QtBot, clip: Path, frames: int = 100) -> None:  # type: ignore[no-untyped-def]
    window.open_path(clip)
    qtbot.waitUntil(
        lambda: window.document.frame_count == frames and window.project.state.source == str(clip),
        timeout=20_000,
    )


def test_unsaved_work_is_kept_offered_and_restored(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "talk.layer"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(project), ""))
    modal = ModalAnswers()
    window = open_window(qtbot)
    _open(window, qtbot, TALK)
    window.project.add_marker(12)  # work in an untitled project

    modal.answer(Btn.Cancel)
    window.open_path(TWO)
    assert modal.seen and modal.seen[0].startswith("unsavedDialog: The untitled project has unsaved")
    assert window.project.state.source == str(TALK) and window.project.state.markers == (12,)

    modal.answer(Btn.Save)
    _open(window, qtbot, TWO)
    assert len(modal.seen) == 2 and load_project(project).markers == (12,)
    assert window.project.path is None and window.project.state.markers == ()

    modal.answer(Btn.Open)  # the talk clip again: its project is offered and opened
    window.open_path(TALK)
    assert modal.seen[-1].startswith(
        "offerProjectDialog: talk_astronaut_4s.mp4 was last edited in talk.layer"
    )
    qtbot.waitUntil(lambda: window.document.frame_count == 100, timeout=20_000)
    assert window.project.path == project and window.project.state.markers == (12,)
    assert len(modal.seen) == 3  # nothing unsaved in the new project on TWO: no question about it
    window.close()

    again = open_window(qtbot)  # a new start: the project open at quit, not the demo
    assert again.restore_last_session()
    qtbot.waitUntil(lambda: again.document.frame_count == 100, timeout=20_000)
    assert again.project.path == project and again.project.state.source == str(TALK)
    assert again.project.state.markers == (12,)
    again.close()
