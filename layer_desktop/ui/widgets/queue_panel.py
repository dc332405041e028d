"""The Queue panel: one row per engine job (state, stage, progress, fps, ETA), its log, and actions."""

from __future__ import annotations

from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from layer_desktop.ui.queue import QueuedJob, RenderQueue

COLUMNS = ("Job", "Output", "State", "Stage", "Progress", "fps", "ETA")
STAGES = {"analyse": "Finding faces", "render": "Rendering"}


class QueuePanel(QWidget):
    publish_requested = Signal(str)  # the finished render's path
    message = Signal(str)  # for the status bar

    def __init__(self, queue: RenderQueue, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.queue = queue
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(2000)
        self.log.setPlaceholderText("Select a job to see its log")
        self.cancel_button = QPushButton("Cancel")
        self.retry_button = QPushButton("Retry")
        self.open_button = QPushButton("Open output")
        self.publish_button = QPushButton("Publish…")
        buttons = QHBoxLayout()
        for b in (self.cancel_button, self.retry_button, self.open_button, self.publish_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.table, 3)
        layout.addLayout(buttons)
        layout.addWidget(self.log, 1)
        self._rows: dict[str, int] = {}
        queue.changed.connect(self.refresh)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.cancel_button.clicked.connect(lambda: self._with_selected(queue.cancel))
        self.retry_button.clicked.connect(lambda: self._with_selected(queue.retry))
        self.open_button.clicked.connect(lambda: self._with_selected(self._open_output))
        self.publish_button.clicked.connect(lambda: self._with_selected(self._publish))
        self._selection_changed()

    def selected(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        item = self.table.item(rows[0].row(), 0)
        return item.text() if item is not None else None

    def refresh(self, job_id: str) -> None:
        job = self.queue.jobs[job_id]
        if job_id not in self._rows:
            self._rows[job_id] = self.table.rowCount()
            self.table.insertRow(self.table.rowCount())
            bar = QProgressBar()
            bar.setTextVisible(True)
            self.table.setCellWidget(self._rows[job_id], 4, bar)
        row = self._rows[job_id]
        for column, text in enumerate(row_texts(job)):
            if column != 4:
                item = QTableWidgetItem(text)
                item.setToolTip(text)  # a failure's whole reason, however narrow the column
                self.table.setItem(row, column, item)
        bar = self.table.cellWidget(row, 4)
        if isinstance(bar, QProgressBar):
            bar.setMaximum(max(1, job.info.total))
            bar.setValue(job.info.total if job.info.state == "done" else job.info.done)
        if self.selected() == job_id:
            self._selection_changed()

    def _with_selected(self, action: object) -> None:
        job_id = self.selected()
        if job_id is not None and callable(action):
            action(job_id)

    def _open_output(self, job_id: str) -> None:
        job = self.queue.jobs[job_id]
        if job.downloaded and job.target is not None:
            if QDesktopServices.openUrl(QUrl.fromLocalFile(str(job.target))):
                self.message.emit(f"Opened {job.target.name}")
            else:
                self.message.emit(
                    f"No program opens {job.target.suffix} files here; the file is {job.target}"
                )

    def _publish(self, job_id: str) -> None:
        job = self.queue.jobs[job_id]
        if job.downloaded and job.target is not None:
            self.publish_requested.emit(str(job.target))

    def _selection_changed(self) -> None:
        job_id = self.selected()
        job = self.queue.jobs.get(job_id) if job_id else None
        self.log.setPlainText("\n".join(job.log) if job else "")
        state = job.info.state if job else None
        self.cancel_button.setEnabled(state in ("queued", "running"))
        self.retry_button.setEnabled(
            job is not None and job.spec is not None and state in ("failed", "cancelled")
        )
        self.open_button.setEnabled(job is not None and job.downloaded)
        self.publish_button.setEnabled(job is not None and job.downloaded)


def row_texts(job: QueuedJob) -> list[str]:
    info = job.info
    stage = STAGES.get(info.stage or "", info.stage or "") if info.state in ("queued", "running") else ""
    eta = f"{job.eta_s:.0f} s" if job.eta_s is not None and info.state == "running" else ""
    fps = f"{job.fps:.1f}" if job.fps and info.state == "running" else ""
    state = info.state + (f": {info.error}" if info.error else "")
    output = str(job.target) if job.target else info.output_name
    return [info.job_id, output, state, stage, "", fps, eta]
