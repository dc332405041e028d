"""Save a screenshot of the main window once its video is loaded (for docs and manual checks)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from layer_desktop.ui.main_window import MainWindow


def screenshot_when_loaded(window: MainWindow, target: Path, timeout_ms: int = 20000) -> None:
    """Poll until a frame and the thumbnails are shown (or time runs out), save, and quit."""
    waited = 0

    def check() -> None:
        nonlocal waited
        waited += 200
        ready = window.document.current >= 0 and window.viewer.caption.text() and window.timeline._thumbs
        if ready or waited >= timeout_ms:
            window.grab().save(str(target))
            QApplication.quit()
        else:
            QTimer.singleShot(200, check)

    QTimer.singleShot(200, check)
