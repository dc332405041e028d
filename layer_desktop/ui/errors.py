"""The one error dialog: what happened, and what to do, with the details folded away.

``ErrorReporter.install`` routes every uncaught exception — on the GUI thread (``sys.excepthook``)
and on any other thread (``threading.excepthook``) — to that dialog on the GUI thread, instead of a
crash or a silent traceback on a terminal nobody sees.
"""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from collections.abc import Callable
from types import TracebackType

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from layer_desktop.errors import LayerError

log = logging.getLogger(__name__)


def error_text(exc: BaseException) -> tuple[str, str]:
    """(message, what to do) for any exception; unexpected ones point at the log."""
    if isinstance(exc, LayerError):
        return exc.message, exc.hint
    log.error("unexpected error", exc_info=exc)
    return f"Something went wrong: {exc}", "Try again; if it keeps happening, send the log file to support."


def error_details(exc: BaseException) -> str:
    """The folded-away part: the error's type, its file when it names one, and the traceback."""
    lines = [f"{type(exc).__module__}.{type(exc).__qualname__}"]
    path = getattr(exc, "path", None)
    if path:
        lines.append(f"File: {path}")
    if exc.__traceback__ is not None:
        lines.append("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
    return "\n".join(lines)


def show_error(parent: QWidget | None, exc: BaseException, title: str = "Layer Desktop") -> QMessageBox:
    """Show the error dialog (non-blocking) and return it."""
    message, hint = error_text(exc)
    box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, parent)
    box.setInformativeText(f"What to do: {hint}")
    box.setDetailedText(error_details(exc))
    box.setObjectName("layerErrorDialog")
    box.open()
    return box


class ErrorReporter(QObject):
    """Delivers uncaught exceptions from any thread to ``handler`` on the GUI thread."""

    raised = Signal(object)

    def __init__(self, handler: Callable[[BaseException], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.raised.connect(handler)
        self._old_sys = sys.excepthook
        self._old_threading = threading.excepthook

    def install(self) -> None:
        sys.excepthook = self._sys_hook
        threading.excepthook = self._thread_hook

    def uninstall(self) -> None:
        """Put back the hooks found at ``install`` — only where ours are still the ones installed
        (two windows closing in any order must not leave a closed window's hook behind)."""
        if sys.excepthook == self._sys_hook:
            sys.excepthook = self._old_sys
        if threading.excepthook == self._thread_hook:
            threading.excepthook = self._old_threading

    def _sys_hook(self, kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            self._old_sys(kind, exc, tb)
            return
        log.error("uncaught exception", exc_info=(kind, exc, tb))
        self.raised.emit(exc)

    def _thread_hook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_value is None or isinstance(args.exc_value, SystemExit):
            return
        log.error("uncaught exception in thread %s", getattr(args.thread, "name", "?"),
                  exc_info=(args.exc_type, args.exc_value, args.exc_traceback))  # fmt: skip
        self.raised.emit(args.exc_value)
