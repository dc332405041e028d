"""The light and dark themes reach every dialog: the Re-render dialog (opened from Review, as a user
does) paints with the light palette when the light theme was chosen, and follows a switch while open."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QPalette
from pytestqt.qtbot import QtBot

from layer_desktop.ui.main_window import MainWindow, window_settings
from layer_desktop.ui.review import FlaggedRange
from layer_desktop.ui.theme import palette_for
from layer_desktop.ui.widgets.rerender_dialog import RerenderDialog
from tests.ui.studio_driver import image_array, open_window

ROLES = (QPalette.ColorRole.Window, QPalette.ColorRole.Base, QPalette.ColorRole.Text,
         QPalette.ColorRole.Button, QPalette.ColorRole.ButtonText)  # fmt: skip


def _rerender_dialog(window: MainWindow, qtbot: QtBot) -> RerenderDialog:
    window.review_panel.set_ranges([FlaggedRange(10, 20, ("lost_face",), 11)], {})
    window.review_panel.select_range(0)
    window.review_panel.rerender_current()
    dialog = window.review_panel.pending_dialog
    assert dialog is not None
    qtbot.waitUntil(dialog.isVisible, timeout=5000)
    return dialog


def _background(dialog: RerenderDialog) -> float:
    """Mean brightness of the dialog's margin (its window colour as painted)."""
    pixels = image_array(dialog.grab().toImage()).astype(np.float32)
    return float(pixels[:, :4].mean())


def test_the_rerender_dialog_follows_the_light_theme(qtbot: QtBot) -> None:
    settings = window_settings()
    settings.setValue("theme", "light")  # chosen in an earlier session, restored at start
    settings.sync()
    window = open_window(qtbot)
    assert window.theme == "light"
    dialog = _rerender_dialog(window, qtbot)
    light = palette_for("light")
    for role in ROLES:
        assert dialog.palette().color(role) == light.color(role), role
        assert dialog.editors["feather"].palette().color(role) == light.color(role), role
    assert light.color(QPalette.ColorRole.Window).lightness() > 200
    assert light.color(QPalette.ColorRole.Text).lightness() < 60
    assert _background(dialog) > 200
    window.use_dark_theme()  # switched while the dialog is open
    qtbot.waitUntil(lambda: _background(dialog) < 80, timeout=5000)
    assert dialog.palette().color(QPalette.ColorRole.Base) == palette_for("dark").color(
        QPalette.ColorRole.Base
    )
    window.use_light_theme()
    qtbot.waitUntil(lambda: _background(dialog) > 200, timeout=5000)
    dialog.reject()
    window.close()
