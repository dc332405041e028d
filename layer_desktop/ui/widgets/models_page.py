"""Settings › Models: the manifest, each model with whether it is on disk and its licence; a Download
button on each missing model (the engine's own downloader, on the task manager's I/O pool, with progress
and the sha256 check), import a file you have, or remove one.

A download stops at its next block when the window closes (``cancel``); the part already fetched stays
and the next Download resumes it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from layer_desktop.engine.models.store import ModelStatus, ModelStore
from layer_desktop.errors import LayerError
from layer_desktop.ui.tasks import TaskManager

log = logging.getLogger(__name__)

PERMILLE = 1000


class DownloadStopped(Exception):
    """Raised in the download's progress callback when the page is told to stop (the window closes)."""


class ModelRow(QWidget):
    """One model in the list: its text, a Download button (missing or partial models with a URL) and a
    progress bar while it downloads."""

    def __init__(self, status: ModelStatus, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAutoFillBackground(True)  # drawn over the list item's own text
        self.model_id = status.spec.id
        self.label = QLabel(row_text(status))
        self.label.setWordWrap(True)
        self.download_button = QPushButton("Download")
        self.download_button.setObjectName(f"download-{self.model_id}")
        self.download_button.setVisible(not status.present and bool(status.spec.urls))
        size = f" ({status.spec.size / 1e6:.1f} MB)" if status.spec.size else ""
        self.download_button.setToolTip(f"Download {self.model_id}{size} and check its sha256")
        self.bar = QProgressBar()
        self.bar.setRange(0, PERMILLE)
        self.bar.setFixedWidth(120)
        self.bar.hide()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.bar)
        layout.addWidget(self.download_button)


def row_text(status: ModelStatus) -> str:
    return f"{status.spec.id} — {status.presence} — licence: {status.spec.licence.summary()}"


class ModelsPage(QWidget):
    """The model manifest (see the module docstring)."""

    progress = Signal(str, object, object)  # model id, bytes done, bytes total (or None), from a worker

    def __init__(self, tasks: TaskManager, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self.store = ModelStore()
        self.rows: dict[str, ModelRow] = {}
        self.downloading: set[str] = set()
        self._stop = threading.Event()
        self.list = QListWidget()
        self.import_button = QPushButton("Import file…")
        self.remove_button = QPushButton("Remove")
        self.status = QLabel("Download a missing model, or import a file you have (checked by its sha256).")
        self.status.setObjectName("modelsStatus")
        self.status.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.list, 1)
        row = QHBoxLayout()
        row.addWidget(self.import_button)
        row.addWidget(self.remove_button)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addWidget(self.status)
        self.import_button.clicked.connect(self._import)
        self.remove_button.clicked.connect(self._remove)
        self.progress.connect(self._on_progress)
        self.reload()

    def reload(self) -> None:
        self.list.clear()
        self.rows = {}
        for st in self.store.statuses():
            item = QListWidgetItem(row_text(st))
            item.setData(Qt.ItemDataRole.UserRole, st.spec.id)
            self.list.addItem(item)
            widget = ModelRow(st)
            widget.download_button.clicked.connect(lambda _c=False, m=st.spec.id: self.download(m))
            if st.spec.id in self.downloading:
                widget.download_button.setEnabled(False)
                widget.bar.show()
            item.setSizeHint(widget.sizeHint())
            self.list.setItemWidget(item, widget)
            self.rows[st.spec.id] = widget

    # ------------------------------------------------------------------ download
    def download(self, model: str) -> None:
        """Download ``model`` in the background: the row shows the progress, the status line the result
        (or what went wrong and what to do)."""
        if model in self.downloading:
            return
        self.downloading.add(model)
        row = self.rows[model]
        row.download_button.setEnabled(False)
        row.bar.setValue(0)
        row.bar.show()
        self.status.setText(f"Downloading {model}…")
        stop, store = self._stop, self.store

        def report(done: int, total: int | None) -> None:
            if stop.is_set():
                raise DownloadStopped(model)
            self.progress.emit(model, done, total)

        self.tasks.run(
            lambda: store.fetch(model, progress=report),
            lambda path: self._downloaded(model, path),
            lambda exc: self._download_failed(model, exc),
            heavy=False,
        )

    def cancel(self) -> None:
        """Stop running downloads at their next block (the window is closing)."""
        self._stop.set()

    def _on_progress(self, model: str, done: int, total: int | None) -> None:
        row = self.rows.get(model)
        if row is None:
            return
        if total:
            row.bar.setRange(0, PERMILLE)
            row.bar.setValue(PERMILLE * done // total)
        else:
            row.bar.setRange(0, 0)  # size unknown: a busy bar
        self.status.setText(f"Downloading {model}: {done / 1e6:.1f} MB")

    def _downloaded(self, model: str, path: Path) -> None:
        self.downloading.discard(model)
        self.status.setText(f"Installed {model} ({path.name}, sha256 checked).")
        self.reload()

    def _download_failed(self, model: str, exc: BaseException) -> None:
        self.downloading.discard(model)
        if isinstance(exc, DownloadStopped):
            self.status.setText(f"Download of {model} stopped; Download again continues it.")
        elif isinstance(exc, LayerError):
            self.status.setText(f"Could not install {model}: {exc.user_text()}")
        else:
            log.warning("download of %s failed", model, exc_info=exc)
            self.status.setText(f"Could not install {model}: {exc}. Try Download again.")
        self.reload()

    # ------------------------------------------------------------------ import / remove
    def _chosen(self) -> str | None:
        item = self.list.currentItem()
        return None if item is None else str(item.data(Qt.ItemDataRole.UserRole))

    def _import(self) -> None:
        model = self._chosen()
        if model is None:
            return
        name, _ = QFileDialog.getOpenFileName(
            self, f"Import {model}", "", "Models (*.onnx *.tflite *.pth);;All (*)"
        )
        if name:
            self._run(lambda: self.store.import_file(model, Path(name)), f"Imported {model}.")

    def _remove(self) -> None:
        model = self._chosen()
        if model is not None:
            self._run(lambda: self.store.remove(model), f"Removed {model}.")

    def _run(self, action: Callable[[], object], done: str) -> None:
        try:
            action()
        except LayerError as exc:
            self.status.setText(exc.user_text())
            return
        self.status.setText(done)
        self.reload()
