"""The Engines dock offscreen against a real sshd: the unknown key asked about (with ssh-keygen's
fingerprint), the doctor checklist, connect to the host's engine, the state shown; screenshots of the
page and the fingerprint dialog."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from layer_desktop.engine.client import EngineClient
from layer_desktop.remote.ssh.bootstrap import Bootstrap
from layer_desktop.remote.ssh.commands import EnginePlan
from layer_desktop.remote.ssh.connection import SshConnection
from layer_desktop.remote.ssh.hosts import HostStore
from layer_desktop.ui.tasks import TaskManager
from layer_desktop.ui.widgets.engines_page import EnginesPage
from layer_desktop.ui.widgets.fingerprint_dialog import FingerprintDialog
from tests.remote.ssh.conftest import SshWorld
from tests.remote.ssh.conftest import ssh_world as ssh_world  # the fixture, shared
from tests.remote.ssh.helpers import fast_bootstrap

pytestmark = [pytest.mark.sshd, pytest.mark.slow]
SHOTS = os.environ.get("LAYER_SCREENSHOTS")  # a folder: save the page and the dialog there


def test_engines_page_asks_about_the_key_runs_doctor_and_connects(ssh_world: SshWorld, qtbot: QtBot) -> None:
    server = ssh_world.sshd()
    profile = ssh_world.profile(server, name="rented-h100")
    with SshConnection(profile, ssh_world.known_hosts, accept_fingerprint=ssh_world.host_fingerprint) as conn:
        conn.open()
        Bootstrap(conn, EnginePlan(profile.work_dir), fast_bootstrap()).run()
    ssh_world.known_hosts.forget(profile.host_id)  # the page meets the key for the first time
    HostStore().put(profile)
    asked: list[tuple[str, str, str]] = []
    tasks = TaskManager()
    page = EnginesPage(tasks, known_hosts=ssh_world.known_hosts,
                       ask=lambda host, fp, kind: asked.append((host, fp, kind)) is None)  # fmt: skip
    qtbot.addWidget(page)
    page.resize(720, 360)
    try:
        assert page.table.rowCount() == 2 and page.cell("rented-h100", 1) == "disconnected"
        page.connect_host("rented-h100")
        qtbot.waitUntil(lambda: page.cell("rented-h100", 1) == "connected", timeout=120_000)
        assert asked == [(profile.host_id, ssh_world.host_fingerprint, "ssh-ed25519")]
        page.doctor_host("rented-h100")
        qtbot.waitUntil(lambda: "NVIDIA H100" in page.cell("rented-h100", 2), timeout=60_000)
        assert "✔ forwarding" in page.details.text() and "✔ python" in page.details.text()
        remote = page.engine_for("rented-h100")
        assert remote is not None
        with EngineClient(remote.endpoint) as client:
            assert client.health()["status"] == "ok"
        if SHOTS:
            page.table.resizeColumnsToContents()
            page.grab().save(str(Path(SHOTS) / "engines_page.png"))
    finally:
        page.shutdown()
        tasks.shutdown()
    assert page.cell("rented-h100", 1) == "disconnected"


def test_fingerprint_dialog_shows_the_fingerprint(qtbot: QtBot) -> None:
    fp = "SHA256:+dNpIaadfVBQtBA+Qtb3tq7gyIcnYkp9MNyBfeNyjv0"
    dialog = FingerprintDialog("[203.0.113.7]:40022/vast-1234", fp, "ssh-ed25519")
    qtbot.addWidget(dialog)
    assert dialog.fingerprint_label.text() == fp
    dialog.show()
    qtbot.mouseClick(dialog.trust_button, qtbot_left())
    assert dialog.result() == FingerprintDialog.DialogCode.Accepted
    if SHOTS:
        dialog.show()
        dialog.grab().save(str(Path(SHOTS) / "fingerprint_dialog.png"))


def qtbot_left():  # type: ignore[no-untyped-def]
    from PySide6.QtCore import Qt

    return Qt.MouseButton.LeftButton
