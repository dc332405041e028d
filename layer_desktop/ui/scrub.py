"""The scrub proxy of the open clip, built in the background (resumable, with progress) while the clip
is open; ``MediaDocument`` reads it for frames asked for while the playhead is dragged."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from layer_desktop.engine.media.proxy import build_proxy, proxy_key
from layer_desktop.paths import app_paths
from layer_desktop.ui.tasks import TaskManager

log = logging.getLogger(__name__)


def proxy_folder(source: Path) -> Path:
    return app_paths().cache_dir / "scrub-proxies" / proxy_key(source)


class ScrubProxies(QObject):
    progress = Signal(int, int)  # frames built, frames in the clip (from the build's thread)
    built = Signal(object)  # the folder, once every part is there

    def __init__(self, tasks: TaskManager, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self.folder: Path | None = None
        self._cancel: threading.Event | None = None

    def set_source(self, source: Path) -> Path | None:
        """Start (or resume) the proxy of ``source``; returns its folder (parts appear as they are built)."""
        self.close()
        try:
            folder = self.folder = proxy_folder(source)
        except OSError as exc:
            log.info("no scrub proxy for %s: %s", source, exc)
            self.folder = None
            return None
        cancel = self._cancel = threading.Event()
        self.tasks.run(
            lambda: build_proxy(source, folder, progress=self.progress.emit, cancel=cancel),
            lambda _n: self._done(folder, cancel),
            lambda exc: log.warning("scrub proxy of %s failed: %s", source.name, exc),
            background=True,
        )
        return folder

    def _done(self, folder: Path, cancel: threading.Event) -> None:
        if not cancel.is_set():
            self.built.emit(folder)

    def close(self) -> None:
        """Stop a build in progress (it resumes from its finished parts next time)."""
        if self._cancel is not None:
            self._cancel.set()
        self._cancel = None
