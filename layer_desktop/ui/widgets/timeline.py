"""The timeline: ruler, thumbnails, waveform, segments, flags, markers, in/out shading and a playhead.

Zoom (Ctrl+wheel, ``zoom_in/out/fit``) and scroll (wheel, Shift+wheel) change the visible frame range;
the lanes (``timeline_lanes``) are drawn into a cached backdrop and the playhead over it. Flag ranges are
merged when set, so a 10-minute clip with thousands of flags stays responsive. Click or drag to seek,
click a segment to select it, drag a segment's edge to move it (``segment_edges_changed`` on release).
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPen, QPixmap, QWheelEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from layer_desktop.ui.widgets.images import to_pixmap
from layer_desktop.ui.widgets.timeline_lanes import (  # the layout, re-exported for the widget's users
    FLAG_HEIGHT,
    FLAG_TOP,
    SEGMENT_HEIGHT,
    SEGMENT_TOP,
    TOTAL_HEIGHT,
    Lanes,
    SegmentRow,
)
from layer_desktop.ui.widgets.timeline_scale import merge_ranges

__all__ = ["FLAG_HEIGHT", "FLAG_TOP", "SEGMENT_HEIGHT", "SEGMENT_TOP", "TOTAL_HEIGHT", "TimelineView"]

PLAYHEAD_PX = 3  # half the width repainted around the playhead
EDGE_GRAB_PX = 5  # how near a segment's edge the pointer grabs it
MIN_VISIBLE_FRAMES = 10  # deepest zoom
ZOOM_STEP = 1.25
FOLLOW_MARGIN = 0.1  # where the playhead lands (fraction of the view) when the view follows it
FLAG_RED, FLAG_ORANGE = QColor("#e0303a"), QColor("#f08c1e")
ORANGE_KINDS = frozenset({"warning", "warn", "minor", "low", "orange"})


class TimelineView(QWidget):
    """Shows frames ``0 .. frame_count-1`` in a zoomable, scrollable view."""

    seek_requested = Signal(int)
    segment_selected = Signal(int)
    segment_edges_changed = Signal(int, int, int)  # index, start, stop

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumHeight(TOTAL_HEIGHT)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMouseTracking(True)
        self.frame_count = 0
        self.current = 0
        self.fps = 25.0
        self.selected_segment: int | None = None
        self._thumbs: list[tuple[int, QPixmap]] = []
        self._peaks: np.ndarray | None = None
        self._segments: list[SegmentRow] = []
        self._keyframes: list[int] = []
        self._flags: list[tuple[QColor, np.ndarray]] = []
        self._markers: list[int] = []
        self._in_out: tuple[int | None, int | None] = (None, None)
        self._view = (0.0, 1.0)  # first visible frame, frames visible
        self._drag: tuple[int, str, SegmentRow] | None = None  # index, "start" | "stop", row before
        self._seeking = False
        self._backdrop: QPixmap | None = None

    def sizeHint(self) -> QSize:
        return QSize(640, TOTAL_HEIGHT)

    def _invalidate(self) -> None:
        """Something under the playhead changed: the backdrop is drawn again at the next paint."""
        self._backdrop = None
        self.update()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.StyleChange, QEvent.Type.FontChange):
            self._invalidate()
        super().changeEvent(event)

    # ------------------------------------------------------------------ data
    def set_media(self, frame_count: int) -> None:
        """A new video: thumbnails, waveform and flags are cleared and the view fits it. Segments,
        markers and in/out (project data) are kept until set again."""
        self.frame_count, self.current = frame_count, 0
        self._thumbs, self._peaks, self._flags = [], None, []
        self._drag, self._seeking = None, False
        self.zoom_fit()

    def set_thumbnails(self, thumbs: list[tuple[int, np.ndarray]]) -> None:
        self._thumbs = [(index, to_pixmap(image)) for index, image in thumbs]
        self._invalidate()

    def set_peaks(self, peaks: np.ndarray | None) -> None:
        self._peaks = peaks
        self._invalidate()

    def set_fps(self, fps: float) -> None:
        self.fps = fps if fps > 0 else 25.0
        self._invalidate()

    def set_current(self, frame: int) -> None:
        """Move the playhead; a zoomed view scrolls to keep it visible. Only the strips under the old
        and the new playhead are repainted, from the cached backdrop."""
        old, self.current = self.current, frame
        start, length = self._view
        if length < self.frame_count and not start <= frame < start + length - 0.5:
            self._set_view(frame - FOLLOW_MARGIN * length, length)
            return
        for index in (old, frame):
            x = round(self.x_for_frame(index + 0.5))
            self.update(QRect(x - PLAYHEAD_PX, 0, 2 * PLAYHEAD_PX + 1, self.height()))

    def set_segments(self, segments: list[SegmentRow]) -> None:
        self._segments = [(int(a), int(b), str(label), bool(on)) for a, b, label, on in segments]
        if self.selected_segment is not None and self.selected_segment >= len(self._segments):
            self.selected_segment = None
        self._invalidate()

    def select_segment(self, index: int | None) -> None:
        self.selected_segment = index
        self._invalidate()

    def set_flags(self, flags: list[tuple[int, int, str]]) -> None:
        """Flagged frame ranges (inclusive); kinds in ``ORANGE_KINDS`` draw orange, others red."""
        orange = merge_ranges((a, b) for a, b, kind in flags if kind.lower() in ORANGE_KINDS)
        red = merge_ranges((a, b) for a, b, kind in flags if kind.lower() not in ORANGE_KINDS)
        self._flags = [(FLAG_ORANGE, orange), (FLAG_RED, red)]  # red painted last, on top
        self._invalidate()

    def set_keyframes(self, frames: list[int]) -> None:
        self._keyframes = sorted(frames)
        self._invalidate()

    def set_markers(self, markers: list[int]) -> None:
        self._markers = sorted(markers)
        self._invalidate()

    def set_in_out(self, in_point: int | None, out_point: int | None) -> None:
        self._in_out = (in_point, out_point)
        self._invalidate()

    # ------------------------------------------------------------------ view range
    def visible_range(self) -> tuple[float, float]:
        """(first visible frame, end of the view) in fractional frames."""
        start, length = self._view
        return start, start + length

    def x_for_frame(self, frame: float) -> float:
        start, length = self._view
        return (frame - start) / length * self.width()

    def frame_at(self, x: float) -> int:
        """The frame under pixel column ``x``, clamped to the video."""
        start, length = self._view
        frame = math.floor(start + x / max(self.width(), 1) * length)
        return min(max(frame, 0), max(self.frame_count - 1, 0))

    def zoom_in(self) -> None:
        self._zoom(ZOOM_STEP, self._anchor_x())

    def zoom_out(self) -> None:
        self._zoom(1 / ZOOM_STEP, self._anchor_x())

    def zoom_fit(self) -> None:
        self._set_view(0.0, float(max(self.frame_count, 1)))

    def _anchor_x(self) -> float:
        x = self.x_for_frame(self.current + 0.5)
        return x if 0 <= x <= self.width() else self.width() / 2

    def _zoom(self, factor: float, anchor_x: float) -> None:
        start, length = self._view
        anchor = start + anchor_x / max(self.width(), 1) * length
        new_length = length / factor
        new_length = min(max(new_length, min(MIN_VISIBLE_FRAMES, self.frame_count)), self.frame_count)
        self._set_view(anchor - anchor_x / max(self.width(), 1) * new_length, new_length)

    def _set_view(self, start: float, length: float) -> None:
        length = max(length, 1.0)
        start = min(max(start, 0.0), max(self.frame_count - length, 0.0))
        self._view = (start, length)
        self._invalidate()

    # ------------------------------------------------------------------ drawing
    def paintEvent(self, event: QPaintEvent) -> None:
        """Everything but the playhead is drawn once into a cached pixmap (the backdrop) and reused
        until data, view, size or palette change, so moving the playhead costs a blit, not a redraw."""
        ratio = self.devicePixelRatioF()
        backdrop = self._backdrop
        if backdrop is None or backdrop.size() != self.size() * ratio or backdrop.devicePixelRatio() != ratio:
            backdrop = self._backdrop = self._draw_backdrop(ratio)
        p = QPainter(self)
        p.drawPixmap(0, 0, backdrop)
        if self.frame_count:
            x = self.x_for_frame(self.current + 0.5)
            p.setPen(QPen(QColor("#ff4d4d"), 2))
            p.drawLine(QPointF(x, 0), QPointF(x, self.height()))
        p.end()

    def _draw_backdrop(self, ratio: float) -> QPixmap:
        lanes = Lanes(
            width=self.width(),
            height=self.height(),
            view=self._view,
            frame_count=self.frame_count,
            fps=self.fps,
            palette=self.palette(),
            thumbs=self._thumbs,
            peaks=self._peaks,
            segments=self._segments,
            selected=self.selected_segment,
            flags=self._flags,
            in_out=self._in_out,
            markers=self._markers,
            keyframes=self._keyframes,
        )
        return lanes.draw(ratio, self.font())

    # ------------------------------------------------------------------ input
    def _edge_at(self, x: float, y: float) -> tuple[int, str] | None:
        """The segment edge within ``EDGE_GRAB_PX`` of the pointer (the nearest), if any."""
        if not SEGMENT_TOP <= y < SEGMENT_TOP + SEGMENT_HEIGHT:
            return None
        best: tuple[float, int, str] | None = None
        for i, (start, stop, _, _) in enumerate(self._segments):
            for edge, frame in (("start", start), ("stop", stop + 1)):
                distance = abs(self.x_for_frame(frame) - x)
                if distance <= EDGE_GRAB_PX and (best is None or distance <= best[0]):
                    best = (distance, i, edge)
        return None if best is None else (best[1], best[2])

    def _segment_at(self, x: float, y: float) -> int | None:
        if not SEGMENT_TOP <= y < SEGMENT_TOP + SEGMENT_HEIGHT:
            return None
        frame = self.frame_at(x)
        hits = [i for i, (a, b, _, _) in enumerate(self._segments) if a <= frame <= b]
        return hits[-1] if hits else None  # the last one wins, as in the render

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if not self.frame_count or event.button() != Qt.MouseButton.LeftButton:
            return
        x, y = event.position().x(), event.position().y()
        if (edge := self._edge_at(x, y)) is not None:
            self._drag = (*edge, self._segments[edge[0]])
            self.select_segment(edge[0])
            self.segment_selected.emit(edge[0])
        elif (index := self._segment_at(x, y)) is not None:
            self.select_segment(index)
            self.segment_selected.emit(index)
        else:
            self._seeking = True
            self.seek_requested.emit(self.frame_at(x))

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        x, y = event.position().x(), event.position().y()
        if self._drag is not None:
            self._drag_edge_to(x)
        elif self._seeking and event.buttons() & Qt.MouseButton.LeftButton:
            self.seek_requested.emit(self.frame_at(x))
        elif self._edge_at(x, y) is not None:
            self.setCursor(Qt.CursorShape.SizeHorCursor)
        else:
            self.unsetCursor()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._seeking = False
        if self._drag is None:
            return
        index, _, before = self._drag
        self._drag_edge_to(event.position().x())
        self._drag = None
        start, stop, _, _ = self._segments[index]
        if (start, stop) != before[:2]:
            self.segment_edges_changed.emit(index, start, stop)

    def _drag_edge_to(self, x: float) -> None:
        if self._drag is None:
            return
        index, edge, _ = self._drag
        start, stop, label, enabled = self._segments[index]
        boundary = round(self._view[0] + x / max(self.width(), 1) * self._view[1])
        if edge == "stop":
            stop = min(max(boundary - 1, start), self.frame_count - 1)
        else:
            start = min(max(boundary, 0), stop)
        self._segments[index] = (start, stop, label, enabled)
        self._invalidate()

    def wheelEvent(self, event: QWheelEvent) -> None:
        delta = event.angleDelta()
        if not self.frame_count:
            event.ignore()
        elif event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self._zoom(ZOOM_STEP ** ((delta.y() or delta.x()) / 120), event.position().x())
        elif self._view[1] < self.frame_count:
            steps = (delta.x() or delta.y()) / 120
            self._set_view(self._view[0] - steps * self._view[1] * 0.1, self._view[1])
        else:
            event.ignore()
