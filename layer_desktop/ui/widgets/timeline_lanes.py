"""The timeline's lanes (ruler, thumbnails, waveform, segments, flags, in/out shading, markers), drawn
from a snapshot of what the widget shows into the backdrop pixmap it caches; the playhead is the
widget's own. Only the visible frame range is painted, and flag ranges are merged per pixel, so a
10-minute clip with thousands of flags stays cheap."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QLineF, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPalette, QPen, QPixmap, QPolygonF

from layer_desktop.ui.widgets.timeline_scale import pixel_runs, segment_colour, tick_label, tick_step

RULER_HEIGHT, THUMB_HEIGHT, WAVE_HEIGHT, SEGMENT_HEIGHT, FLAG_HEIGHT, GAP = 18, 64, 48, 22, 10, 2
THUMB_TOP = RULER_HEIGHT + GAP
WAVE_TOP = THUMB_TOP + THUMB_HEIGHT + GAP
SEGMENT_TOP = WAVE_TOP + WAVE_HEIGHT + GAP
FLAG_TOP = SEGMENT_TOP + SEGMENT_HEIGHT + GAP
TOTAL_HEIGHT = FLAG_TOP + FLAG_HEIGHT + GAP
SegmentRow = tuple[int, int, str, bool]  # start, stop (inclusive), label, enabled


@dataclass(frozen=True)
class Lanes:
    """What the lanes show, in a ``width`` × ``height`` widget viewing frames ``view`` (start, length)."""

    width: int
    height: int
    view: tuple[float, float]
    frame_count: int
    fps: float
    palette: QPalette
    thumbs: list[tuple[int, QPixmap]]
    peaks: np.ndarray | None
    segments: list[SegmentRow]
    selected: int | None
    flags: list[tuple[QColor, np.ndarray]]
    in_out: tuple[int | None, int | None]
    markers: list[int]
    keyframes: list[int] = field(default_factory=list)  # frames holding a segment keyframe

    def x_for_frame(self, frame: float) -> float:
        start, length = self.view
        return (frame - start) / length * self.width

    def visible_range(self) -> tuple[float, float]:
        start, length = self.view
        return start, start + length

    def draw(self, ratio: float, font: QFont) -> QPixmap:
        """The backdrop at device pixel ratio ``ratio``."""
        pixmap = QPixmap(QSize(self.width, self.height) * ratio)
        pixmap.setDevicePixelRatio(ratio)
        pixmap.fill(self.palette.color(QPalette.ColorRole.Base))
        p = QPainter(pixmap)
        p.setFont(font)
        if self.frame_count:
            self.paint_ruler(p)
            self.paint_thumbs(p)
            self.paint_wave(p)
            self.paint_segments(p)
            self.paint_flags(p)
            self.paint_in_out(p)
            self.paint_markers(p)
            self.paint_keyframes(p)
        p.end()
        return pixmap

    def paint_ruler(self, p: QPainter) -> None:
        pal = self.palette
        p.fillRect(QRectF(0, 0, self.width, RULER_HEIGHT), pal.color(QPalette.ColorRole.Window))
        start, stop = self.visible_range()
        step = tick_step(self.width / self.view[1], self.fps)
        p.setPen(QPen(pal.color(QPalette.ColorRole.WindowText), 1))
        font = p.font()
        font.setPointSizeF(max(font.pointSizeF() * 0.8, 6.0))
        p.setFont(font)
        for frame in range(int(start // step) * step, int(stop) + 1, step):
            x = self.x_for_frame(frame)
            p.drawLine(QPointF(x, RULER_HEIGHT - 6), QPointF(x, RULER_HEIGHT))
            p.drawText(QPointF(x + 3, RULER_HEIGHT - 6), tick_label(frame, step, self.fps))
        minor = step // 5 if step % 5 == 0 else step // 2
        if minor and minor * self.width / self.view[1] >= 6:
            p.setPen(QPen(pal.color(QPalette.ColorRole.Mid), 1))
            for frame in range(int(start // minor) * minor, int(stop) + 1, minor):
                x = self.x_for_frame(frame)
                p.drawLine(QPointF(x, RULER_HEIGHT - 3), QPointF(x, RULER_HEIGHT))

    def paint_thumbs(self, p: QPainter) -> None:
        n, width = len(self.thumbs), self.width
        for i, (_, pix) in enumerate(self.thumbs):
            left = self.x_for_frame(self.frame_count * i / n)
            right = self.x_for_frame(self.frame_count * (i + 1) / n)
            if right < 0 or left > width or pix.isNull():
                continue
            natural = pix.width() * THUMB_HEIGHT / max(pix.height(), 1)
            if right - left <= natural:  # squeezed into its slot, as at the fitted zoom
                p.drawPixmap(QRectF(left, THUMB_TOP, right - left - 1, THUMB_HEIGHT), pix, QRectF(pix.rect()))
                continue
            p.save()  # zoomed in: repeat the picture across its slot at its own aspect ratio
            p.setClipRect(QRectF(left, THUMB_TOP, right - left - 1, THUMB_HEIGHT))
            x = max(left, left + math.floor((0 - left) / natural) * natural)
            while x < min(right, width):
                p.drawPixmap(QRectF(x, THUMB_TOP, natural, THUMB_HEIGHT), pix, QRectF(pix.rect()))
                x += natural
            p.restore()

    def paint_wave(self, p: QPainter) -> None:
        if self.peaks is None or len(self.peaks) == 0:
            return
        n = len(self.peaks)
        mid, half = WAVE_TOP + WAVE_HEIGHT / 2, WAVE_HEIGHT / 2
        start, stop = self.visible_range()
        first = max(int(start / self.frame_count * n) - 1, 0)
        last = min(math.ceil(stop / self.frame_count * n) + 1, n)
        bucket_px = self.width / self.view[1] * self.frame_count / n
        colour = QColor("#4da3ff")
        lines = []
        for i in range(first, last):
            lo, hi = float(self.peaks[i][0]), float(self.peaks[i][1])
            x = self.x_for_frame((i + 0.5) * self.frame_count / n)
            if bucket_px >= 3:
                bar = QRectF(x - bucket_px / 2 + 0.5, mid - hi * half, bucket_px - 1, (hi - lo) * half or 1)
                p.fillRect(bar, colour)
            else:
                lines.append(QLineF(x, mid - hi * half, x, mid - lo * half))
        p.setPen(QPen(colour, 1))
        p.drawLines(lines)

    def paint_segments(self, p: QPainter) -> None:
        pal = self.palette
        p.fillRect(
            QRectF(0, SEGMENT_TOP, self.width, SEGMENT_HEIGHT), pal.color(QPalette.ColorRole.AlternateBase)
        )
        for i, (start, stop, label, enabled) in enumerate(self.segments):
            x0, x1 = self.x_for_frame(start), self.x_for_frame(stop + 1)
            if x1 < 0 or x0 > self.width:
                continue
            x0, x1 = max(x0, -4.0), min(x1, self.width + 4.0)
            rect = QRectF(x0, SEGMENT_TOP + 1, max(x1 - x0, 2.0), SEGMENT_HEIGHT - 2)
            fill = segment_colour(label, enabled)
            selected = i == self.selected
            p.setPen(
                QPen(pal.color(QPalette.ColorRole.Highlight), 2) if selected else QPen(fill.darker(140), 1)
            )
            p.setBrush(fill.lighter(115) if selected else fill)
            p.drawRoundedRect(rect.adjusted(0.5, 0.5, -0.5, -0.5), 4, 4)
            text = label if enabled else "original"
            p.setPen(QColor("#000000") if fill.lightnessF() > 0.55 else QColor("#ffffff"))
            inner = rect.adjusted(5, 0, -5, 0)
            elided = p.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, int(inner.width()))
            p.drawText(inner, int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft), elided)
        p.setBrush(Qt.BrushStyle.NoBrush)

    def paint_flags(self, p: QPainter) -> None:
        start, stop = self.visible_range()
        scale = self.width / self.view[1]
        for colour, ranges in self.flags:
            if len(ranges) == 0:
                continue
            first = int(np.searchsorted(ranges[:, 1] + 1, start, side="right"))
            last = int(np.searchsorted(ranges[:, 0], stop, side="left"))
            x0 = (ranges[first:last, 0] - start) * scale
            x1 = (ranges[first:last, 1] + 1 - start) * scale
            for a, b in zip(*pixel_runs(x0, x1), strict=True):
                p.fillRect(QRectF(float(a), FLAG_TOP, float(b - a), FLAG_HEIGHT), colour)

    def paint_in_out(self, p: QPainter) -> None:
        shade, (in_point, out_point) = QColor(0, 0, 0, 90), self.in_out
        height = self.height - RULER_HEIGHT
        if in_point is not None and (x := self.x_for_frame(in_point)) > 0:
            p.fillRect(QRectF(0, RULER_HEIGHT, min(x, self.width), height), shade)
        if out_point is not None and (x := self.x_for_frame(out_point + 1)) < self.width:
            p.fillRect(QRectF(max(x, 0), RULER_HEIGHT, self.width - max(x, 0), height), shade)

    def paint_keyframes(self, p: QPainter) -> None:
        """A small diamond at the foot of the segment lane for each keyframe."""
        start, stop = self.visible_range()
        p.setPen(QPen(QColor("#000000"), 1))
        p.setBrush(QColor("#ff40a0"))
        y = SEGMENT_TOP + SEGMENT_HEIGHT - 5
        for frame in self.keyframes:
            if start - 1 <= frame <= stop:
                x = self.x_for_frame(frame + 0.5)
                diamond = [QPointF(x, y - 4), QPointF(x + 4, y), QPointF(x, y + 4), QPointF(x - 4, y)]
                p.drawPolygon(QPolygonF(diamond))
        p.setBrush(Qt.BrushStyle.NoBrush)

    def paint_markers(self, p: QPainter) -> None:
        start, stop = self.visible_range()
        p.setPen(QPen(self.palette.color(QPalette.ColorRole.WindowText), 1))
        p.setBrush(QColor("#ffc400"))
        for frame in self.markers:
            if start - 1 <= frame <= stop:
                x = self.x_for_frame(frame + 0.5)
                p.drawPolygon(QPolygonF([QPointF(x - 5, 1), QPointF(x + 5, 1), QPointF(x, RULER_HEIGHT - 2)]))
        p.setBrush(Qt.BrushStyle.NoBrush)
