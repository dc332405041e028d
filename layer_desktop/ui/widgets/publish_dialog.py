"""The Publish dialog: a finished render, the destination (the last used one preselected), progress
with Cancel, then the link with Copy and Open. Publishing again after a failure resumes the upload."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from layer_desktop.errors import LayerError, PublishCancelled
from layer_desktop.remote.storage import PublishRecord, last_destination, list_destinations
from layer_desktop.ui.publishing import Publisher

log = logging.getLogger(__name__)


class PublishDialog(QDialog):
    def __init__(
        self,
        file: Path,
        publisher: Publisher,
        project: str,
        manage: Callable[[], None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("publishDialog")
        self.setWindowTitle("Publish render")
        self.setMinimumWidth(520)
        self.file, self.publisher, self.project = file, publisher, project
        self.record: PublishRecord | None = None
        self.destination_box = QComboBox()
        manage_button = QPushButton("Destinations…")
        manage_button.clicked.connect(manage)
        row = QHBoxLayout()
        row.addWidget(self.destination_box, 1)
        row.addWidget(manage_button)
        self.bar = QProgressBar()
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.link_edit = QLineEdit()
        self.link_edit.setReadOnly(True)
        self.link_edit.setPlaceholderText("The link appears here once published")
        self.copy_button = QPushButton("Copy link")
        self.open_button = QPushButton("Open link")
        links = QHBoxLayout()
        links.addWidget(self.link_edit, 1)
        links.addWidget(self.copy_button)
        links.addWidget(self.open_button)
        self.publish_button = QPushButton("Publish")
        self.publish_button.setDefault(True)
        self.cancel_button = QPushButton("Cancel upload")
        self.close_button = QPushButton("Close")
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for b in (self.publish_button, self.cancel_button, self.close_button):
            buttons.addWidget(b)
        form = QFormLayout()
        form.addRow("File", QLabel(f"{file.name}  ({file.stat().st_size / 1e6:.1f} MB)"))
        form.addRow("Destination", row)
        form.addRow("Progress", self.bar)
        form.addRow("Link", links)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        self.publish_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(publisher.cancel)
        self.close_button.clicked.connect(self.close)
        self.copy_button.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.link_edit.text()))
        self.open_button.clicked.connect(lambda: QDesktopServices.openUrl(QUrl(self.link_edit.text())))
        publisher.progress.connect(self._progress)
        publisher.published.connect(self._published)
        publisher.failed.connect(self._failed)
        self.reload_destinations()
        self._update_buttons()

    def reload_destinations(self) -> None:
        """List the destinations again (after the Destinations page changed them); the last used first."""
        self.destination_box.clear()
        names = [d.name for d in list_destinations()]
        self.destination_box.addItems(names)
        last = last_destination()
        if last:
            self.destination_box.setCurrentText(last)
        if not names:
            self.status.setText("No destination yet: add one with Destinations….")
        self._update_buttons()

    def start(self) -> None:
        name = self.destination_box.currentText()
        if not name or self.publisher.busy:
            return
        self.status.setText(f"Publishing to {name}…")
        self.bar.setValue(0)
        self.publisher.start(self.file, name, self.project)
        self._update_buttons()

    def _progress(self, done: int, total: int) -> None:
        self.bar.setMaximum(max(total, 1))
        self.bar.setValue(done)

    def _published(self, record: PublishRecord) -> None:
        self.record = record
        self.bar.setMaximum(max(record.size, 1))
        self.bar.setValue(record.size)
        self.link_edit.setText(record.url)
        expiry = (
            f" (link valid until {record.url_expires_at:%Y-%m-%d %H:%M} UTC)" if record.url_expires_at else ""
        )
        self.status.setText(f"Published to {record.destination}{expiry}.")
        self._update_buttons()

    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, PublishCancelled):
            self.status.setText("Cancelled. Publish again to continue where it stopped.")
        elif isinstance(exc, LayerError):
            self.status.setText(exc.user_text())
        else:
            self.status.setText(f"Publishing failed: {exc}. Publish again to resume.")
        self._update_buttons()

    def _update_buttons(self) -> None:
        busy = self.publisher.busy
        self.publish_button.setEnabled(not busy and bool(self.destination_box.currentText()))
        self.cancel_button.setEnabled(busy)
        self.copy_button.setEnabled(bool(self.link_edit.text()))
        self.open_button.setEnabled(bool(self.link_edit.text()))
