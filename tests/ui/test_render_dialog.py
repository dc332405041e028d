"""The Render dialog's lip-sync and invisible-watermark switches reach the spec it submits; a lip-sync
backend whose model is not installed is greyed out, says how to get it, and is refused if chosen."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import QDialog
from pytestqt.qtbot import QtBot

from layer_desktop.engine.lipsync.options import LipSyncOptions
from layer_desktop.engine.pipeline.spec import TransformSpec
from layer_desktop.ui.project_file import ProjectState
from layer_desktop.ui.render_options import RenderChoice
from layer_desktop.ui.widgets.render_dialog import RenderDialog


def _dialog(qtbot: QtBot, tmp_path: Path, last: RenderChoice | None = None) -> RenderDialog:
    state = ProjectState(source=str(tmp_path / "talk.mp4"), persona="Ada")
    dialog = RenderDialog(state, 100, last)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_lipsync_and_watermark_reach_the_submitted_spec(qtbot: QtBot, tmp_path: Path) -> None:
    dialog = _dialog(qtbot, tmp_path)
    # defaults: lip-sync off, the invisible watermark on (as the spec's default), the visible mark on
    assert dialog.lipsync_box.currentData() == "off" and dialog.watermark_check.isChecked()
    assert dialog.spec().lipsync == LipSyncOptions() and dialog.spec().disclosure.watermark
    dialog.lipsync_box.setCurrentIndex(dialog.lipsync_box.findData("mouth"))
    qtbot.mouseClick(dialog.watermark_check, Qt.MouseButton.LeftButton)
    assert dialog.render_button.isEnabled(), dialog.problem.text()
    accepted: list[TransformSpec] = []
    dialog.accepted.connect(lambda: accepted.append(dialog.spec()))  # what the window submits
    qtbot.mouseClick(dialog.render_button, Qt.MouseButton.LeftButton)
    assert dialog.result() == QDialog.DialogCode.Accepted and len(accepted) == 1
    spec = TransformSpec.model_validate_json(accepted[0].model_dump_json())  # as it travels to the engine
    assert (spec.lipsync.enabled, spec.lipsync.backend) == (True, "mouth")
    assert not spec.disclosure.watermark and spec.disclosure.visible_mark  # switched off by the click
    assert spec.output == str(tmp_path / "talk-layer.mp4")
    # Ctrl+Shift+R remembers the choice: a dialog opened with it shows the same switches
    again = _dialog(qtbot, tmp_path, dialog.choice())
    assert again.lipsync_box.currentData() == "mouth" and not again.watermark_check.isChecked()
    again.close()


def test_a_lipsync_backend_without_its_model_is_greyed_out_and_refused(qtbot: QtBot, tmp_path: Path) -> None:
    dialog = _dialog(qtbot, tmp_path)  # a fresh app home: no lip-sync model is installed
    items = dialog.lipsync_box.model()
    assert isinstance(items, QStandardItemModel)
    wav2lip = items.item(dialog.lipsync_box.findData("wav2lip"))
    assert not wav2lip.isEnabled() and "layer models fetch wav2lip_96" in wav2lip.toolTip()
    assert items.item(dialog.lipsync_box.findData("mouth")).isEnabled()  # offline: no model needed
    dialog.close()
    # a remembered choice whose model was removed since: the dialog says how to get it, Render is off
    last = RenderChoice(lipsync=LipSyncOptions(enabled=True, backend="wav2lip"))
    stale = _dialog(qtbot, tmp_path, last)
    assert stale.lipsync_box.currentData() == "wav2lip"
    assert not stale.render_button.isEnabled() and "wav2lip_96" in stale.problem.text()
    stale.lipsync_box.setCurrentIndex(stale.lipsync_box.findData("off"))
    assert stale.render_button.isEnabled(), stale.problem.text()
    stale.close()
