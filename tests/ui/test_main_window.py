"""The studio window, offscreen: demo opens, frames step exactly, errors reach the one dialog."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from layer_desktop.ui.main_window import MainWindow

ARTIFACTS = Path(__file__).resolve().parents[1] / "_artifacts"


@pytest.fixture
def window(qtbot: QtBot) -> Iterator[MainWindow]:
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    yield w
    w.close()


def test_demo_opens_with_frame_thumbnails_and_waveform(window: MainWindow, qtbot: QtBot) -> None:
    window.open_demo()
    qtbot.waitUntil(
        lambda: window.viewer.caption.text().startswith("Frame 0 / 99   00:00:00:00"), timeout=15000
    )
    qtbot.waitUntil(
        lambda: bool(window.timeline._thumbs) and window.timeline._peaks is not None, timeout=15000
    )
    assert "talk_astronaut_4s.mp4" in window.info_label.text()
    assert "25.000 fps" in window.info_label.text()
    qtbot.waitUntil(
        lambda: bool(window.persona_name) and window.library.active == window.persona_name, timeout=30000
    )
    assert window.persona_name.startswith("Demo")
    ARTIFACTS.mkdir(exist_ok=True)
    assert window.grab().save(str(ARTIFACTS / "main_window_demo.png"))


def test_keyboard_steps_frames_exactly(window: MainWindow, qtbot: QtBot) -> None:
    window.open_demo()
    qtbot.waitUntil(
        lambda: window.document.current == 0 and window.viewer.caption.text() != "", timeout=15000
    )
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    for _ in range(3):
        qtbot.keyClick(window, Qt.Key.Key_Right)
    qtbot.waitUntil(lambda: window.document.current == 3, timeout=10000)
    assert window.viewer.caption.text().startswith("Frame 3 / 99   00:00:00:03   0.120 s")
    qtbot.keyClick(window, Qt.Key.Key_End)
    qtbot.waitUntil(lambda: window.document.current == 99, timeout=10000)
    assert window.timeline.current == 99


def test_timeline_click_seeks(window: MainWindow, qtbot: QtBot) -> None:
    window.open_demo()
    qtbot.waitUntil(lambda: window.timeline.frame_count == 100, timeout=15000)
    point = window.timeline.rect().center()
    expected = int(point.x() / window.timeline.width() * 100)  # the frame under the pointer
    assert 45 <= expected <= 50
    qtbot.mouseClick(window.timeline, Qt.MouseButton.LeftButton, pos=point)
    qtbot.waitUntil(lambda: window.document.current == expected, timeout=10000)
    assert window.viewer.caption.text().startswith(f"Frame {expected} / 99")  # frames count from 0


def test_bad_file_shows_the_error_dialog(window: MainWindow, qtbot: QtBot, media_dir: Path) -> None:
    window.open_path(media_dir / "bad" / "truncated_no_moov.mp4")
    qtbot.waitUntil(lambda: window.last_error is not None, timeout=10000)
    dialog = window.findChild(QMessageBox, "layerErrorDialog")
    assert dialog is not None and dialog.isVisible()
    assert "moov" in dialog.text() and dialog.informativeText().startswith("What to do:")
    dialog.close()
