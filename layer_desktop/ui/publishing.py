"""Publishing a finished render from the studio: ``remote.storage.publish`` on a worker thread, its
progress and result as signals on the GUI thread, a cancel flag the window sets when it closes.

An interrupted upload is resumed by publishing the same file again (the storage layer keeps the parts
already sent), so "Publish" after a dropped connection continues where it stopped.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from layer_desktop.remote.storage import KeyFields, PublishOptions, PublishRecord, publish
from layer_desktop.ui.project_file import PublishedLink
from layer_desktop.ui.tasks import TaskManager

log = logging.getLogger(__name__)


class Publisher(QObject):
    """One publish at a time; ``progress`` carries (bytes done, bytes total), ``transfer`` also the rate
    (bytes/s) and the ETA (seconds, or None)."""

    started = Signal(str)  # file name
    progress = Signal(int, int)
    transfer = Signal(object, object, float, object)  # done, total (Python ints: > 2 GiB), rate, ETA
    published = Signal(object)  # PublishRecord
    failed = Signal(object)  # the exception (PublishCancelled when cancelled)

    def __init__(self, tasks: TaskManager, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self._cancel: threading.Event | None = None
        self.file: Path | None = None  # the file of the publish running or last run
        self.destination = ""

    @property
    def busy(self) -> bool:
        return self._cancel is not None

    def start(self, file: Path, destination: str, project: str = "") -> None:
        """Upload ``file`` to the destination called ``destination`` (nothing happens while one runs)."""
        if self._cancel is not None:
            return
        cancel = self._cancel = threading.Event()
        self.file, self.destination = file, destination
        options = PublishOptions(fields=KeyFields(project=project or "layer"))

        def report(done: int, total: int, rate: float, eta: float | None) -> None:
            self.progress.emit(done, total)
            self.transfer.emit(done, total, rate, eta)

        def work() -> PublishRecord:
            return publish(file, destination, options=options, cancel=cancel, progress=report)

        self.started.emit(file.name)
        self.tasks.run(work, self._done, self._failed, heavy=False)

    def cancel(self) -> None:
        if self._cancel is not None:
            self._cancel.set()

    def _done(self, record: PublishRecord) -> None:
        self._cancel = None
        self.published.emit(record)

    def _failed(self, exc: BaseException) -> None:
        self._cancel = None
        log.info("publish failed: %s", exc)
        self.failed.emit(exc)


def published_link(record: PublishRecord) -> PublishedLink:
    """What the project keeps of a publish record."""
    return PublishedLink(
        record_id=record.id,
        destination=record.destination,
        file=record.source_path,
        url=record.url,
        sha256=record.sha256,
        published_at=record.published_at.isoformat(),
    )
