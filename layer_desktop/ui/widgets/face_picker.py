"""Choosing one face in a photo that shows several: numbered boxes, click one (or press its number)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QKeyEvent, QMouseEvent, QPainter, QPaintEvent, QPen, QPixmap
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPushButton, QVBoxLayout, QWidget

log = logging.getLogger(__name__)

Box = tuple[float, float, float, float]
_NORMAL = QColor(255, 255, 255)
_CHOSEN = QColor(40, 200, 120)


class FaceCanvas(QWidget):
    """The photo scaled to fit, with box ``i`` labelled ``i + 1``; a click inside a box chooses it."""

    clicked_face = Signal(int)

    def __init__(self, pixmap: QPixmap, boxes: Sequence[Box], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("faceCanvas")
        self.pixmap = pixmap
        self.boxes = list(boxes)
        self.chosen: int | None = None
        self.setMinimumSize(320, 240)

    def image_rect(self) -> QRectF:
        """Where the photo is drawn: scaled to fit, centred."""
        pw, ph = max(self.pixmap.width(), 1), max(self.pixmap.height(), 1)
        scale = min(self.width() / pw, self.height() / ph)
        w, h = pw * scale, ph * scale
        return QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)

    def box_rect(self, index: int) -> QRectF:
        """Box ``index`` in widget coordinates."""
        area = self.image_rect()
        scale = area.width() / max(self.pixmap.width(), 1)
        x0, y0, x1, y1 = self.boxes[index]
        return QRectF(area.x() + x0 * scale, area.y() + y0 * scale, (x1 - x0) * scale, (y1 - y0) * scale)

    def face_at(self, point: QPointF) -> int | None:
        """The box under ``point``; where boxes overlap, the smallest (the face in front)."""
        hits = [i for i in range(len(self.boxes)) if self.box_rect(i).contains(point)]
        return min(hits, key=lambda i: self.box_rect(i).width() * self.box_rect(i).height(), default=None)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        index = self.face_at(event.position())
        if index is not None:
            self.clicked_face.emit(index)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.drawPixmap(self.image_rect(), self.pixmap, QRectF(self.pixmap.rect()))
        font = QFont(painter.font())
        font.setBold(True)
        font.setPointSize(14)
        painter.setFont(font)
        for i in range(len(self.boxes)):
            rect = self.box_rect(i)
            color = _CHOSEN if i == self.chosen else _NORMAL
            painter.setPen(QPen(color, 4 if i == self.chosen else 2))
            if i == self.chosen:
                painter.fillRect(rect, QColor(40, 200, 120, 60))
            painter.drawRect(rect)
            painter.drawText(rect.adjusted(4, 2, 0, 0), Qt.AlignmentFlag.AlignTop, str(i + 1))
        painter.end()


class FacePickerDialog(QDialog):
    """Pick the persona's face in a photo; ``chosen_index`` (0 = largest, as ``FaceInput``) after OK."""

    def __init__(
        self, pixmap: QPixmap, boxes: Sequence[Box], title: str = "", parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("facePickerDialog")
        self.setWindowTitle(title or "Choose a face")
        # numbered left to right, as a person reads the photo; ``chosen_index`` maps back to the
        # detector's order (largest first), which ``FaceInput`` uses
        self._order = sorted(range(len(boxes)), key=lambda i: (float(boxes[i][0]), float(boxes[i][1])))
        self.canvas = FaceCanvas(pixmap, [boxes[i] for i in self._order], self)
        self.canvas.clicked_face.connect(self.select)
        hint = QLabel(f"{len(boxes)} faces were found. Click the persona's face, or press its number.")
        hint.setWordWrap(True)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(hint)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.buttons)
        self.resize(640, 520)
        self.ok_button.setEnabled(False)

    @property
    def ok_button(self) -> QPushButton:
        return self.buttons.button(QDialogButtonBox.StandardButton.Ok)

    @property
    def chosen_index(self) -> int | None:
        """The chosen face in the detector's order (0 = largest), None before a choice."""
        return None if self.canvas.chosen is None else self._order[self.canvas.chosen]

    def select(self, index: int) -> None:
        """Choose the face numbered ``index + 1`` (left to right; ignored when out of range)."""
        if not 0 <= index < len(self.canvas.boxes):
            return
        self.canvas.chosen = index
        self.ok_button.setEnabled(True)
        self.canvas.update()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if Qt.Key.Key_1.value <= key <= Qt.Key.Key_9.value:
            self.select(key - Qt.Key.Key_1.value)
            return
        super().keyPressEvent(event)
