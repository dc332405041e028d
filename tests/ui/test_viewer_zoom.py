"""Viewer zoom below 100 %: Ctrl+- steps down past the fit's scale to 10 %, Ctrl+= steps up, Ctrl+0 fits
again — from the keyboard and the View menu — and the frame is painted at the chosen size."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from pytestqt.qtbot import QtBot

from layer_desktop.ui.main_window import MainWindow
from layer_desktop.ui.widgets.viewer import BACKGROUND, ZOOM_STEPS, zoom_step
from tests.ui.studio_driver import focus_window, image_array, open_window

CTRL = Qt.KeyboardModifier.ControlModifier


def _painted_size(window: MainWindow) -> tuple[int, int]:
    """Width and height of the frame as painted: the non-background run through the image area's centre
    (the mode label in the corner stays out of it)."""
    area = window.viewer.image_area()
    pixels = image_array(window.viewer.grab(area).toImage()).astype(int)
    bg = np.array([BACKGROUND.red(), BACKGROUND.green(), BACKGROUND.blue()])
    image = np.abs(pixels - bg).sum(axis=2) > 12
    h, w = image.shape
    cols, rows = np.flatnonzero(image[h // 2]), np.flatnonzero(image[:, w // 2])
    return int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1)


def test_zoom_steps() -> None:
    assert zoom_step(1.0, -1) == 2 / 3 and zoom_step(1.0, +1) == 1.5
    assert zoom_step(0.7, -1) == 2 / 3 and zoom_step(0.7, +1) == 1.0  # from a fit's scale
    assert zoom_step(ZOOM_STEPS[0], -1) == ZOOM_STEPS[0] and zoom_step(8.0, +1) == 8.0


def test_keys_and_menu_zoom_below_fit_and_back(qtbot: QtBot, media_dir: Path) -> None:
    window = open_window(qtbot)
    window.resize(1100, 800)
    window.open_path(media_dir / "clips" / "talk_astronaut_4s.mp4")  # 512 × 512
    qtbot.waitUntil(lambda: not window.viewer.displayed_image().isNull(), timeout=20_000)
    viewer = window.viewer
    fit = viewer.scale()
    assert viewer.zoom is None and fit > 0.34
    focus_window(window, qtbot)
    qtbot.keyClick(window, Qt.Key.Key_Minus, CTRL)
    first = zoom_step(fit, -1)
    assert viewer.zoom == pytest.approx(first) and first < fit  # smaller than fit
    for _ in range(len(ZOOM_STEPS)):
        qtbot.keyClick(window, Qt.Key.Key_Minus, CTRL)
    assert viewer.zoom == pytest.approx(0.1)  # stops at 10 %
    qtbot.keyClick(window, Qt.Key.Key_Equal, CTRL)
    qtbot.keyClick(window, Qt.Key.Key_Equal, CTRL)
    assert viewer.zoom == pytest.approx(1 / 3)
    w, h = _painted_size(window)
    assert abs(w - 512 / 3) <= 2 and abs(h - 512 / 3) <= 2, (w, h)
    qtbot.keyClick(window, Qt.Key.Key_0, CTRL)
    assert viewer.zoom is None and viewer.scale() == pytest.approx(fit)
    # the View menu holds the same actions with those shortcuts
    view_menu = window.menus["&View"]
    by_key = {a.shortcut().toString(QKeySequence.SequenceFormat.PortableText): a for a in view_menu.actions()}
    assert {"Ctrl+-", "Ctrl+=", "Ctrl+0"} <= set(by_key)
    by_key["Ctrl+-"].trigger()
    assert viewer.zoom == pytest.approx(first)
    by_key["Ctrl+="].trigger()
    assert viewer.zoom == pytest.approx(zoom_step(first, +1))
    # the timeline's zoom moved to = and - (one key each)
    start, stop = window.timeline.visible_range()
    qtbot.keyClick(window, Qt.Key.Key_Equal)
    assert window.timeline.visible_range()[1] - window.timeline.visible_range()[0] < stop - start
    window.close()
