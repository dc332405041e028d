"""The Queue panel: one row per engine job (state, stage, progress, fps, ETA) and per publish (state,
percentage, ETA), the selected row's log, and actions (a publish is cancelled here too)."""

from __future__ import annotations

from collections.abc import Callable

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

from layer_desktop.remote.storage import PublishRecord
from layer_desktop.ui.publishing import Publisher
from layer_desktop.ui.queue import QueuedJob, RenderQueue
from layer_desktop.ui.widgets.publish_rows import PERMILLE, PublishRow

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
        self.publishes: dict[str, PublishRow] = {}
        self.publisher: Publisher | None = None
        queue.changed.connect(self.refresh)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.cancel_button.clicked.connect(lambda: self._with_selected(self._cancel))
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
        done = job.info.total if job.info.state == "done" else job.info.done
        self._show_row(job_id, row_texts(job), done, max(1, job.info.total))

    def _show_row(self, row_id: str, texts: list[str], value: int, maximum: int) -> None:
        if row_id not in self._rows:
            self._rows[row_id] = self.table.rowCount()
            self.table.insertRow(self.table.rowCount())
            bar = QProgressBar()
            bar.setTextVisible(True)
            self.table.setCellWidget(self._rows[row_id], 4, bar)
        row = self._rows[row_id]
        for column, text in enumerate(texts):
            if column != 4:
                item = QTableWidgetItem(text)
                item.setToolTip(text)  # a failure's whole reason, however narrow the column
                self.table.setItem(row, column, item)
        bar = self.table.cellWidget(row, 4)
        if isinstance(bar, QProgressBar):
            bar.setMaximum(maximum)
            bar.setValue(value)
        if self.selected() == row_id:
            self._selection_changed()

    def progress_text(self, row_id: str) -> str:
        """What the row's progress bar shows (e.g. "42%")."""
        bar = self.table.cellWidget(self._rows[row_id], 4)
        return bar.text() if isinstance(bar, QProgressBar) else ""

    # ------------------------------------------------------------------ publishes
    def attach_publisher(self, publisher: Publisher) -> None:
        """List ``publisher``'s publishes as rows (percentage, ETA) that Cancel stops."""
        self.publisher = publisher
        publisher.started.connect(self._publish_started)
        publisher.transfer.connect(lambda done, total, _rate, eta: self._publish_update(
            lambda row: row.progressed(done, total, eta)))  # fmt: skip
        publisher.published.connect(lambda record: self._publish_done(record))
        publisher.failed.connect(lambda exc: self._publish_update(lambda row: row.failed(exc)))

    def _publish_started(self, _name: str) -> None:
        assert self.publisher is not None and self.publisher.file is not None
        row = PublishRow(
            f"publish-{len(self.publishes) + 1}", self.publisher.file, self.publisher.destination
        )
        row.log.append(f"publishing {row.file} to {row.destination}")
        self.publishes[row.row_id] = row
        self._draw_publish(row)

    def _publish_done(self, record: PublishRecord) -> None:
        self._publish_update(lambda row: row.finished(record.url))

    def _publish_update(self, change: Callable[[PublishRow], None]) -> None:
        active = [row for row in self.publishes.values() if row.active]
        if active:  # one publish at a time: the running one
            change(active[-1])
            self._draw_publish(active[-1])

    def _draw_publish(self, row: PublishRow) -> None:
        self._show_row(row.row_id, row.texts(), row.permille, PERMILLE)

    def _cancel(self, row_id: str) -> None:
        row = self.publishes.get(row_id)
        if row is None:
            self.queue.cancel(row_id)
        elif row.active and self.publisher is not None:
            self.publisher.cancel()
            row.log.append("cancelling…")
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
        publish = self.publishes.get(job_id) if job_id else None
        if publish is not None:
            self.log.setPlainText("\n".join(publish.log))
            self.cancel_button.setEnabled(publish.active)
            for button in (self.retry_button, self.open_button, self.publish_button):
                button.setEnabled(False)
            return
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
    if stage and job.workers:  # a cluster job: how many workers share it
        stage += f" on {len(job.workers)} workers"
    eta = f"{job.eta_s:.0f} s" if job.eta_s is not None and info.state == "running" else ""
    fps = f"{job.fps:.1f}" if job.fps and info.state == "running" else ""
    state = info.state + (f": {info.error}" if info.error else "")
    output = str(job.target) if job.target else info.output_name
    return [info.job_id, output, state, stage, "", fps, eta]
