"""File › Talking heads for a catalogue: a products CSV/JSON, where the videos go, the organisation and
(optionally) a publish destination; Start runs the batch and each product's row fills in as it finishes.

The dialog shows rows; the window runs the batch (``ui.talk_actions``), whose per-product results arrive
here through ``row_done`` on the GUI thread.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from layer_desktop.engine.talking.batch import BatchResult, BatchRow

NO_PUBLISH = "(keep them here)"
COLUMNS = ("Product", "Status", "Key / error", "Link")


class TalkBatchDialog(QDialog):
    start_requested = Signal()
    row_done = Signal(object, int, int)  # (BatchRow, number, total), emitted from the batch's worker

    def __init__(self, destinations: list[str], out_dir: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Talking heads for a catalogue")
        self.catalogue = QLineEdit()
        self.catalogue.setPlaceholderText("products.csv or products.json")
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._choose)
        self.out_dir = QLineEdit(out_dir)
        self.org = QLineEdit("default")
        self.destination = QComboBox()
        self.destination.addItems([NO_PUBLISH, *destinations])
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        header = self.table.horizontalHeader()
        for column in (0, 1):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Interactive)
        self.table.setWordWrap(False)
        self.status = QLabel("Columns: product id, name, description, image or persona, script, voice")
        self.start_button = QPushButton("Start")
        self.start_button.clicked.connect(self.start_requested.emit)
        self.row_done.connect(self.add_row)
        row = QHBoxLayout()
        row.addWidget(self.catalogue, 1)
        row.addWidget(browse)
        form = QFormLayout()
        form.addRow("Catalogue", row)
        form.addRow("Videos to", self.out_dir)
        form.addRow("Organisation", self.org)
        form.addRow("Publish to", self.destination)
        buttons = QHBoxLayout()
        buttons.addWidget(self.status, 1)
        buttons.addWidget(self.start_button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self.resize(760, 420)

    def _choose(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Product catalogue", "", "Catalogues (*.csv *.json)")
        if path:
            self.catalogue.setText(path)

    @property
    def publish_to(self) -> str | None:
        return None if self.destination.currentIndex() == 0 else self.destination.currentText()

    def started(self, total: int) -> None:
        self.table.setRowCount(0)
        self.start_button.setEnabled(False)
        self.status.setText(f"0 of {total} products")

    def add_row(self, row: BatchRow, number: int, total: int) -> None:
        """One finished product (GUI thread)."""
        at = self.table.rowCount()
        self.table.insertRow(at)
        detail = row.error if row.status == "failed" else row.key
        for column, text in enumerate((row.product, row.status, detail, row.url)):
            item = QTableWidgetItem(text)
            if column == 2 and row.hint:
                item.setToolTip(f"What to do: {row.hint}")
            self.table.setItem(at, column, item)
        self.status.setText(f"{number} of {total} products")

    def finished(self, result: BatchResult) -> None:
        self.start_button.setEnabled(True)
        self.status.setText(
            f"Done: {len(result.rows) - result.failed} made, {result.failed} failed, "
            f"{result.uploaded} uploaded (report.csv / report.json in the videos folder)"
        )
