"""The timeline widget: segment editing by mouse, zoom and scroll, and what its lanes paint."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QImage, QWheelEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from layer_desktop.ui.widgets.timeline import (
    FLAG_HEIGHT,
    FLAG_TOP,
    SEGMENT_HEIGHT,
    SEGMENT_TOP,
    TOTAL_HEIGHT,
    TimelineView,
)
from layer_desktop.ui.widgets.timeline_scale import merge_ranges, tick_label, tick_step

SEGMENT_Y = SEGMENT_TOP + SEGMENT_HEIGHT // 2


@pytest.fixture
def view(qtbot: QtBot) -> Iterator[TimelineView]:
    v = TimelineView()
    qtbot.addWidget(v)
    v.resize(1000, TOTAL_HEIGHT)
    v.set_media(100)  # 10 px per frame at the fitted zoom
    v.show()
    qtbot.waitExposed(v)
    yield v
    v.close()


def wheel(view: TimelineView, x: int, dy: int, modifiers: Qt.KeyboardModifier) -> None:
    pos = QPointF(x, 40)
    event = QWheelEvent(pos, view.mapToGlobal(pos), QPoint(0, 0), QPoint(0, dy), Qt.MouseButton.NoButton,
                        modifiers, Qt.ScrollPhase.NoScrollPhase, False)  # fmt: skip
    QApplication.sendEvent(view, event)


def window_image(view: TimelineView) -> QImage:
    """What the window system holds (the backing store, partial repaints and all), not a fresh render."""
    return view.screen().grabWindow(view.winId()).toImage().convertToFormat(QImage.Format.Format_RGB32)


def is_red(c: QColor) -> bool:
    return c.red() > 180 and c.green() < 90 and c.blue() < 90


def test_dragging_a_segments_right_edge_emits_the_new_stop(view: TimelineView, qtbot: QtBot) -> None:
    view.set_segments([(10, 50, "Ada", True), (70, 80, "Bea", False)])
    assert view.x_for_frame(51) == 510  # the right edge of frame 50
    with qtbot.waitSignal(view.segment_edges_changed) as blocker:
        qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=QPoint(512, SEGMENT_Y))
        qtbot.mouseMove(view, QPoint(600, SEGMENT_Y))
        qtbot.mouseMove(view, QPoint(652, SEGMENT_Y))
        qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=QPoint(652, SEGMENT_Y))
    assert blocker.args == [0, 10, 64]  # the edge now sits after frame 64 (x 650)
    assert view._segments[0][:2] == (10, 64)


def test_a_right_edge_cannot_pass_the_left_one(view: TimelineView, qtbot: QtBot) -> None:
    view.set_segments([(10, 50, "Ada", True)])
    with qtbot.waitSignal(view.segment_edges_changed) as blocker:
        qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=QPoint(100, SEGMENT_Y))  # the left edge
        qtbot.mouseMove(view, QPoint(800, SEGMENT_Y))
        qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=QPoint(800, SEGMENT_Y))
    assert blocker.args == [0, 50, 50]


def test_clicking_a_segment_selects_it_without_seeking(view: TimelineView, qtbot: QtBot) -> None:
    view.set_segments([(10, 50, "Ada", True), (70, 80, "Bea", False)])
    seeks: list[int] = []
    view.seek_requested.connect(seeks.append)
    with qtbot.waitSignal(view.segment_selected) as blocker:
        qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=QPoint(750, SEGMENT_Y))
    assert blocker.args == [1] and view.selected_segment == 1 and seeks == []
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=QPoint(605, SEGMENT_Y))  # a gap: seeks
    assert seeks == [60] and view.selected_segment == 1


def test_ctrl_wheel_zooms_around_the_pointer_and_clicks_seek_there(view: TimelineView, qtbot: QtBot) -> None:
    assert view.visible_range() == (0.0, 100.0)
    wheel(view, 500, 240, Qt.KeyboardModifier.ControlModifier)  # two notches in
    start, stop = view.visible_range()
    assert stop - start == pytest.approx(100 / 1.25**2)
    assert start + (stop - start) / 2 == pytest.approx(50.0)  # frame 50 stays under the pointer
    with qtbot.waitSignal(view.seek_requested) as blocker:
        qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=QPoint(100, 60))
    assert blocker.args == [int(start + 100 / 1000 * (stop - start))] == [24]
    wheel(view, 500, -120, Qt.KeyboardModifier.NoModifier)  # scroll right
    assert view.visible_range()[0] > start
    view.zoom_fit()
    assert view.visible_range() == (0.0, 100.0)


def test_zoom_buttons_and_the_view_follows_the_playhead(view: TimelineView) -> None:
    view.zoom_in()
    view.zoom_in()
    view.zoom_in()
    start, stop = view.visible_range()
    assert stop - start == pytest.approx(100 / 1.25**3)
    view.set_current(95)
    start, stop = view.visible_range()
    assert start <= 95 < stop
    view.zoom_out()
    assert view.visible_range()[1] - view.visible_range()[0] == pytest.approx(100 / 1.25**2)


def test_flags_paint_red_only_in_their_range(view: TimelineView) -> None:
    view.set_flags([(20, 29, "error"), (25, 35, "error"), (60, 61, "warning")])
    image: QImage = view.grab().toImage()
    y = FLAG_TOP + FLAG_HEIGHT // 2
    assert is_red(image.pixelColor(250, y)) and is_red(image.pixelColor(355, y))
    assert not is_red(image.pixelColor(150, y)) and not is_red(image.pixelColor(450, y))
    orange = image.pixelColor(605, y)
    assert orange.red() > 200 and 100 < orange.green() < 180


def test_a_ten_minute_clip_with_thousands_of_flags_renders(view: TimelineView) -> None:
    rng = np.random.default_rng(0)
    starts = np.sort(rng.choice(15000, 2000, replace=False))
    flags = [(int(s), int(s) + int(rng.integers(0, 4)), "error") for s in starts]
    view.set_media(15000)
    view.set_fps(25.0)
    view.set_peaks(np.stack([-rng.random(600), rng.random(600)], axis=1))
    view.set_segments([(i * 300, i * 300 + 250, f"P{i % 3}", i % 4 != 0) for i in range(50)])
    view.set_markers(list(range(0, 15000, 500)))
    view.set_in_out(1000, 14000)
    view.set_flags(flags)
    assert len(view._flags[1][1]) <= 2000
    image = view.grab().toImage()
    y = FLAG_TOP + FLAG_HEIGHT // 2
    red_columns = sum(is_red(image.pixelColor(x, y)) for x in range(image.width()))
    assert 100 < red_columns < image.width()
    assert len({image.pixelColor(x, SEGMENT_Y).rgb() for x in range(0, 1000, 7)}) > 3
    view.zoom_in()
    view.set_current(14990)
    assert not view.grab().toImage().isNull() and view.visible_range()[1] == pytest.approx(15000)


def test_moving_the_playhead_paints_what_a_full_redraw_paints(view: TimelineView, qtbot: QtBot) -> None:
    """The backdrop is cached and only the playhead's strips are repainted: after a palette change, a
    data change and moves, the window must hold exactly what a freshly drawn timeline shows."""
    rng = np.random.default_rng(1)
    view.set_peaks(np.stack([-rng.random(500), rng.random(500)], axis=1))
    view.set_segments([(0, 49, "Ada", True), (50, 99, "Bea", True)])
    view.set_flags([(20, 29, "error")])
    view.grab()  # the backdrop is drawn now
    dark = view.palette()
    dark.setColor(dark.ColorRole.Base, QColor("#101010"))
    view.setPalette(dark)
    qtbot.wait(20)
    assert window_image(view).pixelColor(200, TOTAL_HEIGHT - 1) == QColor("#101010")  # redrawn
    view.set_markers([40])
    qtbot.wait(20)
    for frame in (10, 11, 60, 99, 3, 42):
        view.set_current(frame)
        qtbot.wait(5)  # each move's partial repaint runs
    fresh = TimelineView()
    qtbot.addWidget(fresh)
    fresh.setPalette(dark)
    fresh.resize(view.size())
    fresh.set_media(100)
    fresh.set_peaks(view._peaks)
    fresh.set_segments(view._segments)
    fresh.set_flags([(20, 29, "error")])
    fresh.set_markers([40])
    fresh.set_current(42)
    shown = window_image(view)
    assert shown == fresh.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    red_at = [x for x in range(1000) if is_red(shown.pixelColor(x, 5))]
    assert red_at and all(420 <= x <= 430 for x in red_at)  # one playhead, at frame 42; none left at 3


def test_merge_ranges_and_ruler_ticks() -> None:
    merged = merge_ranges([(10, 12), (0, 3), (4, 5), (11, 20), (30, 30)])
    assert merged.tolist() == [[0, 5], [10, 20], [30, 30]]
    assert merge_ranges([]).shape == (0, 2)
    assert tick_step(10.0, 25.0) == 10  # 10 px/frame: a label every 10 frames
    assert tick_step(1000 / 15000, 25.0) == 1500  # a 10-minute clip in 1000 px: every minute
    assert tick_label(1500, 1500, 25.0) == "01:00:00" and tick_label(30, 10, 25.0) == "00:01:05"
    assert tick_label(90000, 1500, 25.0) == "01:00:00:00"
