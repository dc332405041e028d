"""Dark and light palettes on the Fusion style (the same look on every platform), and the choice kept
in QSettings with the window geometry.

Both palettes are spelled out: the style's standard palette follows the desktop's colour scheme on some
platforms, so a "light" built on it came out dark on a dark desktop (seen in the Re-render dialog). The
scheme is also told to Qt, so title bars and native dialogs follow the chosen theme where they can.
"""

from __future__ import annotations

from typing import Literal

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

Theme = Literal["dark", "light"]

_DARK = {
    QPalette.ColorRole.Window: "#26272b",
    QPalette.ColorRole.WindowText: "#e8e8ea",
    QPalette.ColorRole.Base: "#1d1e21",
    QPalette.ColorRole.AlternateBase: "#2c2d32",
    QPalette.ColorRole.ToolTipBase: "#34353a",
    QPalette.ColorRole.ToolTipText: "#f0f0f0",
    QPalette.ColorRole.Text: "#e8e8ea",
    QPalette.ColorRole.Button: "#303136",
    QPalette.ColorRole.ButtonText: "#e8e8ea",
    QPalette.ColorRole.BrightText: "#ff6b6b",
    QPalette.ColorRole.Link: "#6cb2ff",
    QPalette.ColorRole.Highlight: "#3d7bd9",
    QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.PlaceholderText: "#8d8e94",
}

# Fusion's own light colours
_LIGHT = {
    QPalette.ColorRole.Window: "#efefef",
    QPalette.ColorRole.WindowText: "#000000",
    QPalette.ColorRole.Base: "#ffffff",
    QPalette.ColorRole.AlternateBase: "#f7f7f7",
    QPalette.ColorRole.ToolTipBase: "#ffffdc",
    QPalette.ColorRole.ToolTipText: "#000000",
    QPalette.ColorRole.Text: "#000000",
    QPalette.ColorRole.Button: "#efefef",
    QPalette.ColorRole.ButtonText: "#000000",
    QPalette.ColorRole.BrightText: "#ffffff",
    QPalette.ColorRole.Link: "#0000ff",
    QPalette.ColorRole.Highlight: "#308cc6",
    QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.PlaceholderText: "#7f7f7f",
}
_DISABLED_TEXT = {"dark": "#75767c", "light": "#bebebe"}


def palette_for(theme: Theme) -> QPalette:
    """The palette of ``theme`` (the same whatever the desktop's own colour scheme is)."""
    colours = _DARK if theme == "dark" else _LIGHT
    # the bevel shades (Light, Mid, Dark, Shadow) derived from the button and window colours, then ours
    palette = QPalette(QColor(colours[QPalette.ColorRole.Button]), QColor(colours[QPalette.ColorRole.Window]))
    for role, colour in colours.items():
        palette.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(_DISABLED_TEXT[theme]))
    return palette


def apply_theme(theme: Theme) -> None:
    """Switch the whole application to ``theme``."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    hints = app.styleHints()
    if hasattr(hints, "setColorScheme"):  # Qt 6.8+ (the project allows 6.6)
        hints.setColorScheme(Qt.ColorScheme.Dark if theme == "dark" else Qt.ColorScheme.Light)
    app.setStyle("Fusion")
    app.setPalette(palette_for(theme))
