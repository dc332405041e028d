"""Help › Diagnostics: the doctor's report in the studio, run off the GUI thread, with Copy report."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from layer_desktop.doctor import Check, DoctorReport, run_checks
from layer_desktop.ui.tasks import TaskManager

ChecksFactory = Callable[[], Sequence[Check]]


class DiagnosticsDialog(QDialog):
    """Runs the checks from ``checks`` (default: every doctor check) on the task manager's I/O pool and
    shows the report; Copy report puts its text (paths and host redacted) on the clipboard."""

    def __init__(
        self, tasks: TaskManager, checks: ChecksFactory | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Diagnostics")
        self.resize(720, 480)
        self._tasks = tasks
        self._checks = checks or _all_checks
        self.report: DoctorReport | None = None
        self.status = QLabel("Checking…")
        self.text = QPlainTextEdit(readOnly=True)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_button = QPushButton("Copy report")
        self.again_button = QPushButton("Run again")
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.again_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        self.copy_button.clicked.connect(self.copy_report)
        self.again_button.clicked.connect(self.run)
        layout = QVBoxLayout(self)
        for widget in (self.status, self.text, buttons):
            layout.addWidget(widget)
        self.run()

    def run(self) -> None:
        self.again_button.setEnabled(False)
        self.copy_button.setEnabled(False)
        self.status.setText("Checking…")
        checks = list(self._checks())
        self._tasks.run(lambda: run_checks(checks), self._show, self._failed, heavy=False)

    def _show(self, report: DoctorReport) -> None:
        self.report = report
        self.text.setPlainText(report.to_text())
        bad = [f.name for f in report.findings if f.status in ("fail", "crash")]
        self.status.setText("Everything works." if not bad else f"Problems: {', '.join(bad)}")
        self.again_button.setEnabled(True)
        self.copy_button.setEnabled(True)

    def _failed(self, error: BaseException) -> None:
        self.status.setText(f"The checks could not run: {error}")
        self.again_button.setEnabled(True)

    def copy_report(self) -> None:
        QGuiApplication.clipboard().setText(self.text.toPlainText())


def _all_checks() -> Sequence[Check]:
    from layer_desktop.doctor.registry import all_checks

    return all_checks()
