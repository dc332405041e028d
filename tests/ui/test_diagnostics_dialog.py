"""Help › Diagnostics shows the doctor's report and copies it to the clipboard."""

from __future__ import annotations

from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot

from layer_desktop.doctor import Check, CheckResult
from layer_desktop.doctor.local_checks import check_bundle
from layer_desktop.doctor.service_checks import check_keyring
from layer_desktop.ui.menus import ACTIONS
from layer_desktop.ui.tasks import TaskManager
from layer_desktop.ui.widgets.diagnostics_dialog import DiagnosticsDialog


def _boom() -> CheckResult:
    raise ValueError("broken on purpose")


def test_the_dialog_runs_the_checks_and_copies_the_report(qtbot: QtBot) -> None:
    tasks = TaskManager()
    checks = [Check("bundle", check_bundle), Check("keyring", check_keyring), Check("broken", _boom)]
    dialog = DiagnosticsDialog(tasks, lambda: checks)
    qtbot.addWidget(dialog)
    try:
        qtbot.waitUntil(lambda: dialog.report is not None, timeout=20_000)
        text = dialog.text.toPlainText()
        assert "[   ok] bundle: shipped files present" in text
        assert "[   ok] keyring: keyring backend" in text
        assert "[crash] broken: the check itself failed: ValueError: broken on purpose" in text
        assert dialog.status.text() == "Problems: broken"
        dialog.copy_button.click()
        assert QGuiApplication.clipboard().text() == text
    finally:
        tasks.shutdown()


def test_the_help_menu_has_diagnostics() -> None:
    assert ("&Help", "&Diagnostics…", "", "show_diagnostics") in ACTIONS
