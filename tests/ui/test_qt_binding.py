"""The Qt binding must not leak references to None: PySide6 6.12.0 on Python 3.11 dropped one on every
call of a void method, so a long session (thousands of timeline repaints while scrubbing) freed None
and aborted the interpreter. pyproject pins below it; this test catches a binding that does it again."""

from __future__ import annotations

import sys

from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from pytestqt.qtbot import QtBot


def test_void_qt_calls_keep_the_reference_count_of_none(qtbot: QtBot) -> None:
    image = QImage(64, 64, QImage.Format.Format_RGB32)
    painter = QPainter(image)
    before = sys.getrefcount(None)
    for _ in range(2000):
        painter.setPen(QPen(QColor("#4da3ff"), 1))
        painter.drawLine(QPointF(0, 0), QPointF(10, 10))
    after = sys.getrefcount(None)
    painter.end()
    assert after >= before - 50, f"None lost {before - after} references in 4000 Qt calls"
