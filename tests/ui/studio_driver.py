"""Driving the real studio window in tests: drops as real QDropEvents, keys through the window's
shortcuts, waits on what the user would see."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QImage
from PySide6.QtWidgets import QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from layer_desktop.engine.server.home import EngineHome
from layer_desktop.ui.main_window import MainWindow


def open_window(qtbot: QtBot, home: EngineHome | None = None) -> MainWindow:
    """A shown window; with ``home`` it starts a real local engine and waits until it answers."""
    window = MainWindow(engine=home is not None, engine_home=home)
    qtbot.addWidget(window)
    window.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    if home is not None:
        link = window.engine_link
        qtbot.waitUntil(lambda: link is not None and link.capabilities is not None, timeout=60_000)
    return window


def drop(target: QWidget, paths: list[Path]) -> None:
    """Drop ``paths`` on a widget, as a file manager would: drag-enter (which must accept), then drop.
    (Called on the handlers: offscreen Qt does not route a synthetic, non-spontaneous drop event.)"""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                       Qt.KeyboardModifier.NoModifier)  # fmt: skip
    enter = QDragEnterEvent(QPoint(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                            Qt.KeyboardModifier.NoModifier)  # fmt: skip
    target.dragEnterEvent(enter)  # type: ignore[attr-defined]
    assert enter.isAccepted(), "the drop target refused the drag"
    target.dropEvent(event)  # type: ignore[attr-defined]


def image_array(image: QImage) -> np.ndarray:
    """A QImage as an RGB uint8 array."""
    rgb = image.convertToFormat(QImage.Format.Format_RGB888)
    h, w = rgb.height(), rgb.width()
    data = np.frombuffer(rgb.constBits(), np.uint8, count=rgb.bytesPerLine() * h)
    return data.reshape(h, rgb.bytesPerLine())[:, : w * 3].reshape(h, w, 3).copy()


def error_dialog(window: MainWindow) -> QMessageBox | None:
    boxes = [b for b in window.findChildren(QMessageBox, "layerErrorDialog") if b.isVisible()]
    return boxes[-1] if boxes else None


def close_error_dialogs(window: MainWindow) -> None:
    for box in window.findChildren(QMessageBox, "layerErrorDialog"):
        box.close()
        box.deleteLater()


def focus_window(window: MainWindow, qtbot: QtBot) -> None:
    """Make the window active again (after a dialog) so its shortcuts get the keys."""
    window.activateWindow()
    window.setFocus()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
