"""The viewer: a source frame and its processed version, compared in several modes, with zoom and overlays.

Modes: ``source``, ``processed``, ``side_by_side``, ``wipe`` (drag the line) and ``difference`` (the
absolute difference amplified ×4). Frames arrive as numpy RGB and are converted to QImages once; each
paint only composes cached images with QPainter (GUI thread). Zoom is fit-to-window or a fixed step from
10% to 800% (100%: one image pixel per device-independent pixel), centred, panned by dragging.
"""

from __future__ import annotations

import logging
from typing import Any, Literal, get_args

import numpy as np
from PySide6.QtCore import QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPaintEvent, QPen, QPolygonF, QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from layer_desktop.ui.widgets.compose import difference, matched, side_by_side, wipe
from layer_desktop.ui.widgets.images import to_qimage

log = logging.getLogger(__name__)

ViewMode = Literal["source", "processed", "side_by_side", "wipe", "difference"]
MODES: tuple[str, ...] = get_args(ViewMode)
MODE_NAMES = {
    "source": "Source",
    "processed": "Processed",
    "side_by_side": "Side by side",
    "wipe": "Wipe",
    "difference": "Difference ×4",
}
EMPTY_TEXT = "Open a video (Ctrl+O) or drop one here"
BACKGROUND = QColor(17, 17, 17)
BOX_COLOUR = QColor(0, 255, 128)
LANDMARK_COLOUR = QColor(255, 200, 0)
TARGET_COLOUR = QColor(255, 64, 160)  # the clicked target face: stands out from the other boxes
WIPE_COLOUR = QColor(255, 255, 255)
ZOOM_STEPS = (0.1, 0.25, 1 / 3, 0.5, 2 / 3, 1.0, 1.5, 2.0, 3.0, 4.0, 8.0)


def zoom_step(scale: float, direction: int) -> float:
    """The next zoom step above (``direction`` > 0) or below ``scale``, stopping at the ends."""
    if direction > 0:
        return next((z for z in ZOOM_STEPS if z > scale * 1.001), ZOOM_STEPS[-1])
    return next((z for z in reversed(ZOOM_STEPS) if z < scale * 0.999), ZOOM_STEPS[0])


class ViewerView(QWidget):
    """Shows the current frame: source, processed or a comparison, fit or at 100%, with face overlays."""

    mode_changed = Signal(str)
    face_clicked = Signal(object)  # {"track": id or None, "x", "y"}: image pixels of the click on a face

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(320, 240)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMouseTracking(False)
        self._source: np.ndarray | None = None
        self._processed: np.ndarray | None = None  # already matched to the source's size
        self._images: dict[str, QImage] = {}  # per-frame cache: source, processed, side_by_side, …
        self.mode: str = "source"
        self._ab: str | None = None  # "A" / "B" while the A/B toggle drives the mode
        self.wipe_position = 0.5
        self.zoom: float | None = None  # None: fit to the window
        self._pan = QPointF(0, 0)
        self._drag: tuple[QPointF, QPointF] | None = None  # (press position, pan at press)
        self._wiping = False
        self.overlays: list[dict[str, Any]] = []
        self._landmarks: list[QPolygonF] = []  # per face, built when the overlays are set
        self.overlays_visible = True
        self.target_track: int | None = None  # the face chosen by a click, outlined in every frame

        self.caption = QLabel("")
        self.caption.setObjectName("frameCaption")
        self.caption.setStyleSheet("color: #ddd; background: #1b1b1b; padding: 2px 6px;")
        self.mode_label = QLabel(MODE_NAMES["source"], self)
        self.mode_label.setObjectName("viewerMode")
        self.mode_label.setStyleSheet(
            "color: #eee; background: rgba(0, 0, 0, 160); padding: 2px 6px; border-radius: 3px;"
        )
        self.mode_label.move(8, 8)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addStretch(1)
        layout.addWidget(self.caption)
        self._update_mode_label()

    # ---------------------------------------------------------------- content
    def show_frame(self, rgb: np.ndarray, caption: str) -> None:
        """Show source frame ``rgb`` (RGB uint8); the processed frame of the previous index is dropped."""
        self._source = np.ascontiguousarray(rgb, dtype=np.uint8)
        self._processed = None
        self._images = {"source": to_qimage(self._source)}
        self.caption.setText(caption)
        self._update_mode_label()
        self.update()

    def show_processed(self, rgb: np.ndarray | None) -> None:
        """The rendered frame for the shown index, or None when it is not available (yet)."""
        self._processed = None
        for key in [k for k in self._images if k != "source"]:
            del self._images[key]
        if rgb is not None and self._source is not None:
            self._processed = matched(np.ascontiguousarray(rgb, dtype=np.uint8), self._source)
            self._images["processed"] = to_qimage(self._processed)
        elif rgb is not None:
            log.debug("processed frame without a source frame; ignored")
        self._update_mode_label()
        self.update()

    @property
    def has_processed(self) -> bool:
        return self._processed is not None

    def set_overlays(self, faces: list[dict[str, Any]]) -> None:
        """Faces to draw: ``bbox`` (x0, y0, x1, y1 in image pixels), optional ``track`` and
        ``landmarks`` (N×2)."""
        self.overlays = list(faces)
        self._landmarks = [landmark_points(face.get("landmarks")) for face in self.overlays]
        self.update()

    def set_target(self, track: int | None) -> None:
        """Outline the face with this track id as the swap's target (None: no outline)."""
        self.target_track = track
        self.update()

    def set_overlays_visible(self, visible: bool) -> None:
        self.overlays_visible = visible
        self.update()

    # ---------------------------------------------------------------- modes
    def set_mode(self, mode: str) -> None:
        """One of ``MODES``; raises ``ValueError`` for another name."""
        if mode not in MODES:
            raise ValueError(f"Unknown viewer mode {mode!r}; one of {', '.join(MODES)}.")
        self._ab = None
        self._apply_mode(mode)

    def toggle_ab(self) -> None:
        """Flip between the source (A) and the processed frame (B)."""
        self._ab = "A" if self.mode == "processed" else "B"
        self._apply_mode("source" if self._ab == "A" else "processed")

    def _apply_mode(self, mode: str) -> None:
        changed = mode != self.mode
        self.mode = mode
        self._update_mode_label()
        self.update()
        if changed:
            self.mode_changed.emit(mode)

    def _effective_mode(self) -> str:
        """The mode actually painted: comparisons need a processed frame, else the source is shown."""
        return self.mode if self._processed is not None else "source"

    def _update_mode_label(self) -> None:
        text = f"A/B: {self._ab}" if self._ab else MODE_NAMES[self.mode]
        if self.mode != "source" and self._source is not None and self._processed is None:
            text += " (not rendered — showing source)"
        self.mode_label.setText(text)
        self.mode_label.adjustSize()

    def set_wipe_position(self, position: float) -> None:
        self.wipe_position = min(max(position, 0.0), 1.0)
        self.update()

    # ---------------------------------------------------------------- zoom
    def zoom_fit(self) -> None:
        self.zoom = None
        self._pan = QPointF(0, 0)
        self.update()

    def zoom_actual(self) -> None:
        """100%: one image pixel per device-independent pixel, centred."""
        self.set_zoom(1.0)

    def set_zoom(self, zoom: float) -> None:
        self.zoom = zoom
        self._pan = QPointF(0, 0)
        self.update()

    def zoom_in(self) -> None:
        """The next step up from what is shown now (from fit: the step above the fit's scale)."""
        self.set_zoom(zoom_step(self.scale(), +1))

    def zoom_out(self) -> None:
        """The next step down, to 10% (below the fit's scale for a large frame in a small window)."""
        self.set_zoom(zoom_step(self.scale(), -1))

    def scale(self) -> float:
        """Image pixels → widget pixels as shown now (the fit's scale when zoom is fit)."""
        if self.zoom is not None:
            return self.zoom
        iw, ih = self._image_size()
        area = self.image_area()
        return min(area.width() / iw, area.height() / ih) if iw and ih else 1.0

    # ---------------------------------------------------------------- geometry
    def image_area(self) -> QRect:
        """The part of the widget where the image is painted (above the caption)."""
        bottom = self.caption.geometry().top() if self.caption.isVisible() else self.height()
        return QRect(0, 0, self.width(), max(bottom, 1))

    def _image_size(self) -> tuple[int, int]:
        if self._source is None:
            return 0, 0
        h, w = self._source.shape[:2]
        return (2 * w if self._effective_mode() == "side_by_side" else w), h

    def image_rect(self) -> QRectF:
        """Where the displayed image lies in widget coordinates (empty without a frame)."""
        iw, ih = self._image_size()
        area = self.image_area()
        if not iw or not ih:
            return QRectF()
        scale = self.scale()
        w, h = iw * scale, ih * scale
        pan = self._clamped_pan(w, h, area)
        x = area.left() + (area.width() - w) / 2 + pan.x()
        y = area.top() + (area.height() - h) / 2 + pan.y()
        if self.zoom is not None:  # whole pixels, so 100% stays exactly 1:1
            x, y = round(x), round(y)
        return QRectF(x, y, w, h)

    def _clamped_pan(self, w: float, h: float, area: QRect) -> QPointF:
        slack_x = max((w - area.width()) / 2, 0.0)
        slack_y = max((h - area.height()) / 2, 0.0)
        return QPointF(min(max(self._pan.x(), -slack_x), slack_x), min(max(self._pan.y(), -slack_y), slack_y))

    # ---------------------------------------------------------------- images
    def _image(self, key: str) -> QImage:
        """The cached QImage ``key`` (source, processed, side_by_side, difference), built on first use."""
        image = self._images.get(key)
        if image is None:
            assert self._source is not None and self._processed is not None
            if key == "side_by_side":
                image = to_qimage(side_by_side(self._source, self._processed))
            else:
                image = to_qimage(difference(self._source, self._processed))
            self._images[key] = image
        return image

    def displayed_image(self) -> QImage:
        """What the image area shows for the current mode, at 1:1 (a null QImage without a frame)."""
        if self._source is None:
            return QImage()
        mode = self._effective_mode()
        if mode == "wipe":
            assert self._processed is not None
            return to_qimage(wipe(self._source, self._processed, self.wipe_position))
        return self._image(mode).copy()

    # ---------------------------------------------------------------- painting
    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        try:
            painter.fillRect(self.rect(), BACKGROUND)
            if self._source is None:
                painter.setPen(QColor(170, 170, 170))
                painter.drawText(self.image_area(), Qt.AlignmentFlag.AlignCenter, EMPTY_TEXT)
                return
            rect = self.image_rect()
            painter.setClipRect(self.image_area())
            if self.zoom is None or self.zoom < 1:
                painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            self._paint_image(painter, rect)
            if self.overlays_visible and self.overlays:
                self._paint_overlays(painter, rect)
        finally:
            painter.end()

    def _paint_image(self, painter: QPainter, rect: QRectF) -> None:
        mode = self._effective_mode()
        if mode != "wipe":
            painter.drawImage(rect, self._image(mode))
            return
        source, processed = self._image("source"), self._image("processed")
        split = rect.left() + rect.width() * self.wipe_position
        painter.drawImage(rect, processed)
        painter.save()
        painter.setClipRect(QRectF(rect.left(), rect.top(), split - rect.left(), rect.height()))
        painter.drawImage(rect, source)
        painter.restore()
        painter.setPen(QPen(WIPE_COLOUR, 1))
        painter.drawLine(QPointF(split, rect.top()), QPointF(split, rect.bottom()))

    def _paint_overlays(self, painter: QPainter, rect: QRectF) -> None:
        assert self._source is not None
        frame_w = self._source.shape[1]
        scale = rect.height() / self._source.shape[0]
        offsets = [0.0, frame_w * scale] if self._effective_mode() == "side_by_side" else [0.0]
        box_pen = QPen(BOX_COLOUR, 2)
        box_pen.setCosmetic(True)
        target_pen = QPen(TARGET_COLOUR, 4)
        target_pen.setCosmetic(True)
        for dx in offsets:
            origin = QPointF(rect.left() + dx, rect.top())
            for face, points in zip(self.overlays, self._landmarks, strict=True):
                chosen = self.target_track is not None and face.get("track") == self.target_track
                self._paint_face(painter, face, points, origin, scale, target_pen if chosen else box_pen)

    @staticmethod
    def _paint_face(
        painter: QPainter, face: dict[str, Any], points: QPolygonF, origin: QPointF, scale: float, pen: QPen
    ) -> None:
        x0, y0, x1, y1 = (float(v) for v in face["bbox"])
        box = QRectF(origin.x() + x0 * scale, origin.y() + y0 * scale, (x1 - x0) * scale, (y1 - y0) * scale)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(box)
        if not points.isEmpty():  # one call for all of them, in image pixels (hundreds per face)
            painter.save()
            painter.translate(origin)
            painter.scale(scale, scale)
            dots = QPen(LANDMARK_COLOUR, 3)
            dots.setCosmetic(True)
            painter.setPen(dots)
            painter.drawPoints(points)
            painter.restore()
        if face.get("track") is not None:  # a tag over the box's corner, on top of the landmarks
            text = f"track {face['track']}"  # the id a segment's face choice "track:N" names
            size = painter.fontMetrics().size(0, text)
            tag = QRectF(box.left(), box.top() - size.height() - 2, size.width() + 8, size.height() + 2)
            if tag.top() < 0:
                tag.moveTop(box.top())
            painter.fillRect(tag, pen.color())
            painter.setPen(QColor("#000000"))
            painter.drawText(tag, int(Qt.AlignmentFlag.AlignCenter), text)

    # ---------------------------------------------------------------- mouse
    def _wipe_at(self, x: float) -> None:
        rect = self.image_rect()
        if rect.width() > 0:
            self.set_wipe_position((x - rect.left()) / rect.width())

    def mousePressEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        if event.button() == Qt.MouseButton.LeftButton and self._effective_mode() == "wipe":
            self._wiping = True
            self._wipe_at(pos.x())
        elif event.button() == Qt.MouseButton.LeftButton and (hit := self._face_under(pos)) is not None:
            self.face_clicked.emit(hit)
        elif event.button() in (Qt.MouseButton.LeftButton, Qt.MouseButton.MiddleButton):
            self._drag = (pos, QPointF(self._pan))
        event.accept()

    def image_point(self, pos: QPointF) -> tuple[float, float] | None:
        """The source-frame pixel under a widget position (either half of side by side), or None."""
        rect = self.image_rect()
        if self._source is None or rect.isEmpty() or not rect.contains(pos):
            return None
        scale = rect.height() / self._source.shape[0]
        x, y = (pos.x() - rect.left()) / scale, (pos.y() - rect.top()) / scale
        return x % self._source.shape[1], y

    def _face_under(self, pos: QPointF) -> dict[str, Any] | None:
        point = self.image_point(pos) if self.overlays_visible else None
        face = face_at(self.overlays, *point) if point is not None else None
        if face is None or point is None:
            return None
        return {"track": face.get("track"), "x": point[0], "y": point[1]}

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        if self._wiping:
            self._wipe_at(pos.x())
        elif self._drag is not None and self.zoom is not None:
            start, pan = self._drag
            rect, area = self.image_rect(), self.image_area()
            self._pan = pan + (pos - start)
            self._pan = self._clamped_pan(rect.width(), rect.height(), area)  # stop at the image's edges
            self.update()
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._wiping = False
        self._drag = None
        event.accept()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.mode_label.move(8, 8)


def face_at(faces: list[dict[str, Any]], x: float, y: float) -> dict[str, Any] | None:
    """The face whose box holds (x, y); the smallest such box when boxes overlap."""
    inside = [f for f in faces if f["bbox"][0] <= x <= f["bbox"][2] and f["bbox"][1] <= y <= f["bbox"][3]]
    return min(
        inside, key=lambda f: (f["bbox"][2] - f["bbox"][0]) * (f["bbox"][3] - f["bbox"][1]), default=None
    )


def landmark_points(landmarks: Any) -> QPolygonF:
    """A face's landmarks (N×2 image pixels, or None) as one polygon, built once per overlay update."""
    if landmarks is None or not len(landmarks):
        return QPolygonF()
    return QPolygonF([QPointF(float(x), float(y)) for x, y in np.asarray(landmarks, float).reshape(-1, 2)])
