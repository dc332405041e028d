"""The viewer shows source and processed frames exactly, compares them, zooms 1:1 and draws overlays."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from layer_desktop.ui.widgets.viewer import BOX_COLOUR, LANDMARK_COLOUR, ViewerView


def _array(image: QImage) -> np.ndarray:
    """An RGB uint8 copy of a QImage."""
    rgb = image.convertToFormat(QImage.Format.Format_RGB888)
    h, w = rgb.height(), rgb.width()
    data = np.frombuffer(rgb.constBits(), np.uint8, count=rgb.bytesPerLine() * h)
    return data.reshape(h, rgb.bytesPerLine())[:, : 3 * w].reshape(h, w, 3).copy()


def _frame(seed: int, h: int = 90, w: int = 160) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


@pytest.fixture
def viewer(qtbot: QtBot) -> ViewerView:
    view = ViewerView()
    qtbot.addWidget(view)
    view.resize(640, 400)
    view.show()
    qtbot.waitExposed(view)
    return view


def test_source_mode_shows_the_exact_pixels_and_the_caption(viewer: ViewerView) -> None:
    frame = _frame(1)
    viewer.show_frame(frame, "frame 12 · 0.48 s")
    assert np.array_equal(_array(viewer.displayed_image()), frame)
    caption = viewer.findChild(QLabel, "frameCaption")
    assert caption is viewer.caption and caption.text() == "frame 12 · 0.48 s"
    assert viewer.mode_label.text() == "Source"


def test_processed_mode_and_fallback_to_source_when_not_rendered(viewer: ViewerView) -> None:
    source, processed = _frame(1), _frame(2)
    viewer.show_frame(source, "")
    viewer.set_mode("processed")
    assert np.array_equal(_array(viewer.displayed_image()), source)  # nothing rendered yet
    assert "not rendered" in viewer.mode_label.text()
    viewer.show_processed(processed)
    assert np.array_equal(_array(viewer.displayed_image()), processed)
    assert viewer.mode_label.text() == "Processed"
    viewer.show_frame(_frame(3), "next frame")  # the old processed frame belongs to another index
    assert not viewer.has_processed


def test_difference_is_black_for_equal_frames_and_amplified_otherwise(viewer: ViewerView) -> None:
    frame = _frame(1)
    viewer.show_frame(frame, "")
    viewer.show_processed(frame.copy())
    viewer.set_mode("difference")
    diff = _array(viewer.displayed_image())
    assert diff.shape == frame.shape and not diff.any()
    changed = frame.copy()
    changed[10:20, 10:20] = np.clip(changed[10:20, 10:20].astype(int) + 10, 0, 255).astype(np.uint8)
    viewer.show_processed(changed)
    diff = _array(viewer.displayed_image())
    assert diff[10:20, 10:20].max() > 0 and not diff[30:, 30:].any()
    expected = np.abs(changed.astype(int) - frame.astype(int)) * 4
    assert np.array_equal(diff, np.clip(expected, 0, 255).astype(np.uint8))


def test_side_by_side_puts_the_two_frames_next_to_each_other(viewer: ViewerView) -> None:
    source, processed = _frame(1), _frame(2)
    viewer.show_frame(source, "")
    viewer.show_processed(processed)
    viewer.set_mode("side_by_side")
    shown = _array(viewer.displayed_image())
    assert shown.shape == (90, 320, 3)
    assert np.array_equal(shown[:, :160], source) and np.array_equal(shown[:, 160:], processed)


def test_wipe_shows_source_left_and_processed_right_and_follows_the_mouse(
    qtbot: QtBot, viewer: ViewerView
) -> None:
    source, processed = _frame(1), _frame(2)
    viewer.show_frame(source, "")
    viewer.show_processed(processed)
    viewer.set_mode("wipe")
    assert viewer.wipe_position == 0.5
    shown = _array(viewer.displayed_image())
    assert np.array_equal(shown[:, :80], source[:, :80]) and np.array_equal(shown[:, 80:], processed[:, 80:])
    rect = viewer.image_rect()
    x = int(rect.left() + rect.width() * 0.25)
    qtbot.mousePress(viewer, Qt.MouseButton.LeftButton, pos=QPoint(x, int(rect.center().y())))
    qtbot.mouseRelease(viewer, Qt.MouseButton.LeftButton, pos=QPoint(x, int(rect.center().y())))
    assert viewer.wipe_position == pytest.approx(0.25, abs=0.01)
    shown = _array(viewer.displayed_image())
    assert np.array_equal(shown[:, :39], source[:, :39]) and np.array_equal(shown[:, 41:], processed[:, 41:])


def test_zoom_actual_paints_image_pixels_one_to_one(viewer: ViewerView) -> None:
    assert viewer.devicePixelRatioF() == 1.0
    frame = _frame(5, 120, 200)
    viewer.show_frame(frame, "")
    viewer.zoom_actual()
    rect = viewer.image_rect()
    assert (rect.width(), rect.height()) == (200, 120)
    grab = _array(viewer.grab().toImage())
    x, y = int(rect.left()), int(rect.top())
    # below the mode label in the top-left corner, the painted pixels are the frame's
    assert np.array_equal(grab[y + 40 : y + 120, x : x + 200], frame[40:120])
    viewer.zoom_fit()
    assert viewer.image_rect().width() > 200  # fit scales the small frame up


def test_zoom_actual_pans_a_large_frame_by_dragging(qtbot: QtBot, viewer: ViewerView) -> None:
    viewer.show_frame(_frame(6, 800, 1200), "")
    viewer.zoom_actual()
    before = viewer.image_rect()
    qtbot.mousePress(viewer, Qt.MouseButton.LeftButton, pos=QPoint(300, 200))
    qtbot.mouseMove(viewer, QPoint(350, 220))
    qtbot.mouseRelease(viewer, Qt.MouseButton.LeftButton, pos=QPoint(350, 220))
    after = viewer.image_rect()
    assert (after.left() - before.left(), after.top() - before.top()) == (50, 20)
    qtbot.mousePress(viewer, Qt.MouseButton.LeftButton, pos=QPoint(10, 10))
    qtbot.mouseMove(viewer, QPoint(2000, 2000))
    qtbot.mouseRelease(viewer, Qt.MouseButton.LeftButton, pos=QPoint(2000, 2000))
    assert viewer.image_rect().left() == 0 and viewer.image_rect().top() == 0  # stops at the edge


def _box_pixels(viewer: ViewerView) -> int:
    grab = _array(viewer.grab().toImage())
    colour = np.array([BOX_COLOUR.red(), BOX_COLOUR.green(), BOX_COLOUR.blue()], np.uint8)
    return int(np.all(grab == colour, axis=2).sum())


def test_overlays_draw_a_box_only_when_visible(viewer: ViewerView) -> None:
    viewer.show_frame(np.full((90, 160, 3), 60, np.uint8), "")
    assert _box_pixels(viewer) == 0
    landmarks = np.array([[60.0, 40.0], [90.0, 40.0]])
    viewer.set_overlays([{"bbox": (40, 20, 110, 80), "track": 3, "landmarks": landmarks}])
    assert viewer.overlays_visible and _box_pixels(viewer) > 100
    grab, rect = _array(viewer.grab().toImage()), viewer.image_rect()
    scale = rect.height() / 90
    for x, y in landmarks:  # a dot on each landmark, where the image has it
        dot = grab[round(rect.top() + y * scale), round(rect.left() + x * scale)]
        assert tuple(dot) == (LANDMARK_COLOUR.red(), LANDMARK_COLOUR.green(), LANDMARK_COLOUR.blue())
    assert tuple(grab[round(rect.top() + 60 * scale), round(rect.left() + 75 * scale)]) == (60, 60, 60)
    viewer.set_overlays_visible(False)
    assert _box_pixels(viewer) == 0


def test_ab_toggle_flips_between_source_and_processed(qtbot: QtBot, viewer: ViewerView) -> None:
    source, processed = _frame(1), _frame(2)
    viewer.show_frame(source, "")
    viewer.show_processed(processed)
    with qtbot.waitSignal(viewer.mode_changed) as signal:
        viewer.toggle_ab()
    assert signal.args == ["processed"] and viewer.mode_label.text() == "A/B: B"
    assert np.array_equal(_array(viewer.displayed_image()), processed)
    viewer.toggle_ab()
    assert viewer.mode == "source" and viewer.mode_label.text() == "A/B: A"
    assert np.array_equal(_array(viewer.displayed_image()), source)


def test_unknown_mode_is_refused(viewer: ViewerView) -> None:
    with pytest.raises(ValueError, match="Unknown viewer mode"):
        viewer.set_mode("sepia")
    assert viewer.displayed_image().isNull()  # no frame yet
