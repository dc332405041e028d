"""A publish shows in the Queue panel as a row with its percentage, ending "published" with the link,
and a publish can be cancelled from that row — against a real moto S3 server on 127.0.0.1."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from layer_desktop.engine.server.home import EngineHome
from layer_desktop.remote.storage import HmacKeys, save_destination
from layer_desktop.secrets import KeyringSecrets
from layer_desktop.settings import S3Destination
from layer_desktop.ui.main_window import MainWindow
from tests.remote.storage.conftest import ACCESS_KEY_ID, SECRET_ACCESS_KEY, MemoryKeyring, moto_url, s3_env

__all__ = ["moto_url", "s3_env"]  # fixtures used here
MiB = 1024 * 1024


def _publish(window: MainWindow, qtbot: QtBot, path: Path) -> None:
    window.publish_file(path)
    dialog = window.publish_dialog
    assert dialog is not None and dialog.destination_box.currentText() == "moto"
    qtbot.mouseClick(dialog.publish_button, Qt.MouseButton.LeftButton)


def test_publish_progress_and_cancel_in_the_queue(
    qtbot: QtBot, tmp_path: Path, s3_env: dict[str, Any], memory_keyring: MemoryKeyring
) -> None:
    save_destination(S3Destination(name="moto", bucket=s3_env["bucket"], endpoint_url=s3_env["url"]),
                     HmacKeys(ACCESS_KEY_ID, SECRET_ACCESS_KEY), KeyringSecrets())  # fmt: skip
    # the queue panel comes with the engine; nothing here waits for the engine to be up
    window = MainWindow(engine=True, engine_home=EngineHome(tmp_path / "engine"))
    qtbot.addWidget(window)
    window.show()
    panel = window.queue_panel
    small = tmp_path / "render.mp4"
    small.write_bytes(os.urandom(2 * MiB))
    seen: list[str] = []
    window.publisher.transfer.connect(lambda *_a: seen.append(panel.progress_text("publish-1")))
    _publish(window, qtbot, small)
    assert "publish-1" in panel.publishes  # the row is there as soon as the publish starts
    qtbot.waitUntil(lambda: not panel.publishes["publish-1"].active, timeout=60_000)
    row = panel._rows["publish-1"]
    state = panel.table.item(row, 2).text()
    assert state.startswith("published: " + s3_env["url"]), state
    assert panel.table.item(row, 1).text() == "render.mp4 → moto"
    assert panel.progress_text("publish-1") == "100%" and seen and seen[-1] == "100%"
    percents = [int(s.rstrip("%")) for s in seen]
    assert percents == sorted(percents)

    window.publish_dialog.close()  # type: ignore[union-attr]
    big = tmp_path / "long render.mp4"
    big.write_bytes(os.urandom(48 * MiB))
    _publish(window, qtbot, big)
    row = panel._rows["publish-2"]
    panel.table.selectRow(row)
    assert panel.cancel_button.isEnabled() and not panel.publish_button.isEnabled()
    qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.publishes["publish-2"].active, timeout=60_000)
    assert panel.table.item(row, 2).text().startswith("cancelled"), panel.table.item(row, 2).text()
    assert not panel.cancel_button.isEnabled()
    assert "cancelled" in panel.log.toPlainText()
    keys = [o["Key"] for o in s3_env["raw"].list_objects_v2(Bucket=s3_env["bucket"]).get("Contents", [])]
    assert len(keys) == 1 and keys[0].endswith("render.mp4")  # only the first publish is in the bucket
    window.publish_dialog.close()  # type: ignore[union-attr]
    window.close()


@pytest.fixture(autouse=True)
def _quiet_audio(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAYER_AUDIO_BACKEND", "null")
