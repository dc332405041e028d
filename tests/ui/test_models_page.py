"""Settings › Models downloads a missing model with the engine's downloader, in the background, from a
real HTTP server on 127.0.0.1: progress in its row, the sha256 checked, installed; a file that is not the
published one is refused with a clear reason and nothing installed."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from layer_desktop.engine.models.manifest import MANIFEST_ENV
from layer_desktop.paths import app_paths
from layer_desktop.ui.tasks import TaskManager
from layer_desktop.ui.widgets.settings_dialog import SettingsDialog
from tests.engine.models.range_server import RangeServer

PAYLOAD = os.urandom(600_000)


def _entry(model_id: str, url: str, sha256: str) -> dict[str, object]:
    return {"id": model_id, "task": "face_identity", "backend": "onnx", "filename": f"{model_id}.onnx",
            "urls": [url], "sha256": sha256, "size": len(PAYLOAD),
            "licence": {"name": "Test licence", "commercial_use": True}}  # fmt: skip


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RangeServer]:
    srv = RangeServer().start()
    srv.files["m/tiny.onnx"] = PAYLOAD
    srv.files["m/other.onnx"] = os.urandom(len(PAYLOAD))  # not the file the manifest publishes
    good = hashlib.sha256(PAYLOAD).hexdigest()
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"schema_version": 1, "models": [
        _entry("tiny", srv.url("m/tiny.onnx"), good),
        _entry("impostor", srv.url("m/other.onnx"), good),
    ]}))  # fmt: skip
    monkeypatch.setenv(MANIFEST_ENV, str(manifest))
    try:
        yield srv
    finally:
        srv.stop()


def test_download_a_missing_model_from_the_models_page(qtbot: QtBot, server: RangeServer) -> None:
    tasks = TaskManager()
    dialog = SettingsDialog(tasks, "Engine: Local CPU")
    qtbot.addWidget(dialog)
    try:
        dialog.show_page("Models")
        dialog.show()
        page = dialog.models
        assert set(page.rows) == {"tiny", "impostor"}
        row = page.rows["tiny"]
        assert row.download_button.isVisible() and "missing" in row.label.text()
        seen: list[int] = []
        page.progress.connect(lambda _m, done, _total: seen.append(done))
        qtbot.mouseClick(row.download_button, Qt.MouseButton.LeftButton)
        assert not row.download_button.isEnabled() and row.bar.isVisible()  # running in the background
        qtbot.waitUntil(lambda: "Installed tiny" in page.status.text(), timeout=30_000)
        installed = app_paths().models_dir / "tiny.onnx"
        assert installed.read_bytes() == PAYLOAD
        assert seen and seen[-1] == len(PAYLOAD) and seen == sorted(seen)
        assert "installed" in page.rows["tiny"].label.text()
        assert not page.rows["tiny"].download_button.isVisible()  # nothing left to download
        assert page.store.status("tiny").present

        bad = page.rows["impostor"]
        qtbot.mouseClick(bad.download_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "Could not install impostor" in page.status.text(), timeout=30_000)
        assert "sha256" in page.status.text().lower() or "published" in page.status.text()
        assert not (app_paths().models_dir / "impostor.onnx").exists()
        assert "missing" in page.rows["impostor"].label.text()
        assert page.rows["impostor"].download_button.isEnabled()  # the user can try again
        assert (server.hits[0].path, server.hits[0].status) == ("m/tiny.onnx", 200)  # over the wire
        assert {h.path for h in server.hits[1:]} == {"m/other.onnx"}
    finally:
        dialog.close()
        tasks.shutdown()
