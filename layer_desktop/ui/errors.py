"""The one error dialog: what happened, and what to do."""

from __future__ import annotations

import logging

from PySide6.QtWidgets import QMessageBox, QWidget

from layer_desktop.errors import LayerError

log = logging.getLogger(__name__)


def error_text(exc: BaseException) -> tuple[str, str]:
    """(message, what to do) for any exception; unexpected ones point at the log."""
    if isinstance(exc, LayerError):
        return exc.message, exc.hint
    log.exception("unexpected error", exc_info=exc)
    return f"Something went wrong: {exc}", "Try again; if it keeps happening, send the log file to support."


def show_error(parent: QWidget | None, exc: BaseException, title: str = "Layer Desktop") -> QMessageBox:
    """Show the error dialog (non-blocking) and return it."""
    message, hint = error_text(exc)
    box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, parent)
    box.setInformativeText(f"What to do: {hint}")
    box.setObjectName("layerErrorDialog")
    box.open()
    return box
