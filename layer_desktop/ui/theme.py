"""Dark and light palettes on the Fusion style (the same look on every platform), and the choice kept
in QSettings with the window geometry."""

from __future__ import annotations

from typing import Literal

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


def palette_for(theme: Theme) -> QPalette:
    """The palette of ``theme``: ours for dark, Fusion's standard one for light."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    palette = app.style().standardPalette()
    if theme == "dark":
        for role, colour in _DARK.items():
            palette.setColor(role, QColor(colour))
        for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
            palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#75767c"))
    return palette


def apply_theme(theme: Theme) -> None:
    """Switch the whole application to ``theme``."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    app.setStyle("Fusion")
    app.setPalette(palette_for(theme))
