"""Render the demo through the Render dialog to a chosen path, configure a real moto S3 server on the
Destinations page (keys typed into password fields, kept in the keyring), Test it, publish the render
with the Publish button: the link downloads the same bytes, and the record is in the reopened project."""

from __future__ import annotations

import hashlib
import urllib.request
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog
from pytestqt.qtbot import QtBot

from layer_desktop.engine.pipeline.demo import demo_content
from layer_desktop.engine.server.home import EngineHome
from layer_desktop.paths import app_paths
from layer_desktop.ui.main_window import MainWindow
from layer_desktop.ui.project import load_project
from tests.remote.storage.conftest import ACCESS_KEY_ID, SECRET_ACCESS_KEY, MemoryKeyring, moto_url, s3_env
from tests.ui.studio_driver import focus_window, open_window

__all__ = ["moto_url", "s3_env"]  # fixtures used here


def _render_through_dialog(window: MainWindow, qtbot: QtBot, target: Path) -> None:
    focus_window(window, qtbot)
    qtbot.keyClick(window, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    dialog = window.render_dialog
    assert dialog is not None and dialog.isVisible()
    # the demo's own folder is part of the install: its renders default to the app's renders folder
    assert Path(dialog.path_edit.text()) == app_paths().renders_dir / "talk_astronaut_4s-layer.mp4"
    dialog.path_edit.setText(str(target))
    dialog.crf_box.setValue(23)
    assert dialog.render_button.isEnabled(), dialog.problem.text()
    qtbot.mouseClick(dialog.render_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.project.state.output == str(target), timeout=30_000)
    qtbot.waitUntil(lambda: target.is_file() and window.processed.rendered == target, timeout=240_000)
    assert window.last_error is None, window.last_error


def _add_destination(window: MainWindow, qtbot: QtBot, env: dict[str, str]) -> None:
    settings = window.open_settings("Destinations")
    page = settings.destinations
    assert settings.stack.currentWidget() is page
    page.kind_box.setCurrentIndex(page.kind_box.findData("s3"))
    page.name_edit.setText("moto")
    page.bucket_edit.setText(env["bucket"])
    page.endpoint_edit.setText(env["url"])
    assert page.secret_edit.echoMode() == page.secret_edit.EchoMode.Password
    page.key_id_edit.setText(ACCESS_KEY_ID)
    page.secret_edit.setText(SECRET_ACCESS_KEY)
    qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
    assert page.list.currentItem() is not None and page.list.currentItem().text() == "moto", (
        page.result.text()
    )
    assert page.secret_edit.text() == ""  # the secret left the form for the keyring
    qtbot.mouseClick(page.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "works" in page.result.text() or "not work" in page.result.text(), timeout=30_000)
    assert "'moto' works" in page.result.text(), page.result.text()
    settings.close()


@pytest.mark.slow
def test_render_dialog_then_publish_to_s3(
    qtbot: QtBot,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    s3_env: dict[str, str],
    memory_keyring: MemoryKeyring,
) -> None:
    monkeypatch.setenv("LAYER_AUDIO_BACKEND", "null")
    window = open_window(qtbot, EngineHome(tmp_path / "engine"))
    window.open_demo()
    qtbot.waitUntil(
        lambda: window.document.frame_count > 0 and bool(window.project.state.persona), timeout=60_000
    )
    target = tmp_path / "renders" / "my demo.mp4"
    _render_through_dialog(window, qtbot, target)
    _add_destination(window, qtbot, s3_env)
    assert ("layer-desktop", "publish/moto/secret_access_key") in memory_keyring.values

    focus_window(window, qtbot)
    qtbot.keyClick(
        window, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    )
    dialog = window.publish_dialog
    assert dialog is not None and dialog.destination_box.currentText() == "moto"  # preselected
    qtbot.mouseClick(dialog.publish_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(dialog.link_edit.text()) or "fail" in dialog.status.text(), timeout=60_000)
    url = dialog.link_edit.text()
    assert url.startswith(s3_env["url"]), dialog.status.text()
    assert dialog.copy_button.isEnabled() and dialog.open_button.isEnabled()
    with urllib.request.urlopen(url, timeout=30) as response:  # the moto server on 127.0.0.1
        downloaded = response.read()
    assert hashlib.sha256(downloaded).hexdigest() == hashlib.sha256(target.read_bytes()).hexdigest()

    project = tmp_path / "demo.layer"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(project), ""))
    dialog.close()
    focus_window(window, qtbot)
    qtbot.keyClick(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    window.close()
    reopened = load_project(project)
    assert reopened.output == str(target)
    (link,) = reopened.publishes
    assert link.url == url and link.destination == "moto" and link.file == str(target.resolve())
    assert link.sha256 == hashlib.sha256(target.read_bytes()).hexdigest()
    assert demo_content().clip == Path(reopened.source or "")
