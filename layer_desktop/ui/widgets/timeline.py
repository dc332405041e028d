"""The timeline: thumbnail strip, audio waveform and a playhead; click or drag to seek."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPen, QPixmap
from PySide6.QtWidgets import QSizePolicy, QWidget

from layer_desktop.ui.widgets.images import to_pixmap

THUMB_HEIGHT = 64
WAVE_HEIGHT = 48


class TimelineView(QWidget):
    """Shows ``frame_count`` frames across its width; emits ``seek_requested(frame)`` on click/drag."""

    seek_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumHeight(THUMB_HEIGHT + WAVE_HEIGHT + 8)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.frame_count = 0
        self.current = 0
        self._thumbs: list[tuple[int, QPixmap]] = []
        self._peaks: np.ndarray | None = None

    def set_media(self, frame_count: int) -> None:
        self.frame_count, self.current = frame_count, 0
        self._thumbs, self._peaks = [], None
        self.update()

    def set_thumbnails(self, thumbs: list[tuple[int, np.ndarray]]) -> None:
        self._thumbs = [(index, to_pixmap(image)) for index, image in thumbs]
        self.update()

    def set_peaks(self, peaks: np.ndarray | None) -> None:
        self._peaks = peaks
        self.update()

    def set_current(self, frame: int) -> None:
        self.current = frame
        self.update()

    # ------------------------------------------------------------------ drawing
    def _x_of(self, frame: float) -> float:
        return frame / max(self.frame_count, 1) * self.width()

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("#1b1b1f"))
        if self.frame_count:
            self._paint_thumbs(p)
            self._paint_wave(p)
            x = self._x_of(self.current + 0.5)
            p.setPen(QPen(QColor("#ff4d4d"), 2))
            p.drawLine(QPointF(x, 0), QPointF(x, self.height()))
        p.end()

    def _paint_thumbs(self, p: QPainter) -> None:
        n = len(self._thumbs)
        for i, (_, pix) in enumerate(self._thumbs):
            left, right = self.width() * i / n, self.width() * (i + 1) / n
            target = QRectF(left, 2, right - left - 1, THUMB_HEIGHT)
            p.drawPixmap(target, pix, QRectF(pix.rect()))

    def _paint_wave(self, p: QPainter) -> None:
        if self._peaks is None or len(self._peaks) == 0:
            return
        top = THUMB_HEIGHT + 6
        mid, half = top + WAVE_HEIGHT / 2, WAVE_HEIGHT / 2
        p.setPen(QPen(QColor("#4da3ff"), 1))
        n = len(self._peaks)
        for i, (lo, hi) in enumerate(self._peaks):
            x = self.width() * (i + 0.5) / n
            p.drawLine(QPointF(x, mid - float(hi) * half), QPointF(x, mid - float(lo) * half))

    # ------------------------------------------------------------------ input
    def _frame_at(self, x: float) -> int:
        return int(min(max(x / max(self.width(), 1), 0.0), 0.999999) * self.frame_count)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if self.frame_count and event.button() == Qt.MouseButton.LeftButton:
            self.seek_requested.emit(self._frame_at(event.position().x()))

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self.frame_count and event.buttons() & Qt.MouseButton.LeftButton:
            self.seek_requested.emit(self._frame_at(event.position().x()))
