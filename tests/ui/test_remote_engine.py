"""The studio on a rented GPU host, offscreen against a real sshd: the Engines page adds the host (its
form), the unknown key is asked about in the real fingerprint dialog (ssh-keygen's fingerprint), the
doctor checklist, Connect, then the demo rendered on the host's engine through the render queue: the
queue says the job runs remotely and its downloaded result opens. Screenshots of the page and the
dialog go to ``$LAYER_SCREENSHOTS`` when set."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import av
import pytest
from PySide6.QtCore import QObject, QTimer, QUrl, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from layer_desktop.remote.ssh.bootstrap import Bootstrap
from layer_desktop.remote.ssh.commands import EnginePlan
from layer_desktop.remote.ssh.connection import SshConnection
from layer_desktop.remote.ssh.hosts import HostStore
from layer_desktop.ui.engine_link import RemoteEngineLink
from layer_desktop.ui.queue import RenderQueue
from layer_desktop.ui.tasks import TaskManager
from layer_desktop.ui.widgets.engines_page import EnginesPage
from layer_desktop.ui.widgets.fingerprint_dialog import FingerprintDialog
from layer_desktop.ui.widgets.host_dialog import HostDialog
from layer_desktop.ui.widgets.queue_panel import QueuePanel
from tests.remote.ssh.conftest import SshWorld
from tests.remote.ssh.conftest import ssh_world as ssh_world  # the fixture, shared
from tests.remote.ssh.helpers import demo_spec, demo_store, fast_bootstrap

SHOTS = os.environ.get("LAYER_SCREENSHOTS")


def when_shown(kind: type[QWidget], act: Callable[[QWidget], None]) -> None:
    """Run ``act`` on the first visible ``kind`` window (a modal dialog opened by what follows)."""

    def poll() -> None:
        found = [w for w in QApplication.topLevelWidgets() if isinstance(w, kind) and w.isVisible()]
        if found:
            act(found[0])
        else:
            QTimer.singleShot(50, poll)

    QTimer.singleShot(50, poll)


class Opener(QObject):
    """Takes the file URLs the studio asks the desktop to open (instead of a desktop's player)."""

    def __init__(self) -> None:
        super().__init__()
        self.opened: list[Path] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.opened.append(Path(url.toLocalFile()))


@pytest.mark.sshd
@pytest.mark.slow
def test_add_host_trust_doctor_connect_and_render_remotely(
    ssh_world: SshWorld, qtbot: QtBot, tmp_path: Path
) -> None:
    server = ssh_world.sshd()
    profile = ssh_world.profile(server, name="rented-h100")
    with SshConnection(profile, ssh_world.known_hosts, accept_fingerprint=ssh_world.host_fingerprint) as conn:
        conn.open()  # bootstrapped beforehand (``layer hosts bootstrap``); then the key is forgotten
        Bootstrap(conn, EnginePlan(profile.work_dir), fast_bootstrap()).run()
    ssh_world.known_hosts.forget(profile.host_id)
    tasks = TaskManager()
    page = EnginesPage(tasks, store=HostStore(), known_hosts=ssh_world.known_hosts)
    qtbot.addWidget(page)
    page.resize(760, 380)
    page.show()
    link: RemoteEngineLink | None = None
    queue: RenderQueue | None = None
    opener = Opener()
    try:
        assert page.table.rowCount() == 1  # Local only

        def fill(dialog: QWidget) -> None:
            assert isinstance(dialog, HostDialog)
            dialog.name_edit.setText(profile.name)
            dialog.host_edit.setText(profile.host)
            dialog.port_spin.setValue(profile.port)
            dialog.user_edit.setText(profile.user)
            dialog.key_edit.setText(profile.key_file or "")
            dialog.work_dir_edit.setText(profile.work_dir)
            dialog.add_button.click()

        when_shown(HostDialog, fill)
        page.add_button.click()
        assert HostStore().get("rented-h100") == profile
        assert page.table.rowCount() == 2 and page.cell("rented-h100", 1) == "disconnected"

        shown: list[str] = []

        def trust(dialog: QWidget) -> None:
            assert isinstance(dialog, FingerprintDialog)
            shown.append(dialog.fingerprint_label.text())
            if SHOTS:
                dialog.grab().save(str(Path(SHOTS) / "fingerprint_dialog.png"))
            dialog.trust_button.click()

        when_shown(FingerprintDialog, trust)
        page.doctor_button.click()  # the selected row: the new host; its key is met here
        qtbot.waitUntil(lambda: "NVIDIA H100" in page.cell("rented-h100", 2), timeout=60_000)
        assert shown == [ssh_world.host_fingerprint]  # ssh-keygen -lf's SHA256:…
        assert "✔ forwarding" in page.details.text() and "✔ python" in page.details.text()

        page.connect_button.click()  # trusted now: no second question
        qtbot.waitUntil(lambda: page.cell("rented-h100", 1) == "connected", timeout=120_000)
        assert shown == [ssh_world.host_fingerprint]
        assert page.cell("rented-h100", 2).startswith("NVIDIA H100 80GB HBM3 (81559 MiB")
        assert page.cell("rented-h100", 2).endswith("(+1 more)")  # the A10G: in the tooltip
        assert "NVIDIA A10G" in page.table.item(page.row_of("rented-h100"), 2).toolTip()
        if SHOTS:
            page.table.resizeColumnToContents(0)
            page.grab().save(str(Path(SHOTS) / "engines_page.png"))

        remote = page.engine_for("rented-h100")
        assert remote is not None
        link = RemoteEngineLink(tasks, remote)
        queue = RenderQueue(link)
        panel = QueuePanel(queue)
        qtbot.addWidget(panel)
        demo_store()
        target = tmp_path / "out" / "remote.mp4"
        target.parent.mkdir()
        queue.submit(demo_spec(target))
        qtbot.waitUntil(lambda: any(j.downloaded for j in queue.jobs.values()), timeout=240_000)
        [job] = queue.jobs.values()
        assert job.engine == "remote: rented-h100" and job.info.state == "done"
        panel.table.selectRow(0)
        assert "runs on the remote: rented-h100 engine" in panel.log.toPlainText()
        assert panel.open_button.isEnabled()
        QDesktopServices.setUrlHandler("file", opener, "open")
        panel.open_button.click()
        assert opener.opened == [target]
        with av.open(str(target)) as video:
            assert sum(1 for _ in video.decode(video=0)) == 100
    finally:
        QDesktopServices.unsetUrlHandler("file")
        if queue is not None:
            queue.stop()
        if link is not None:
            link.stop()
        page.shutdown()
        tasks.shutdown()


def test_the_host_form_refuses_bad_values_and_keeps_nothing(qtbot: QtBot) -> None:
    dialog = HostDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.name_edit.setText("my box!")
    dialog.add_button.click()
    assert "Enter the host's address" in dialog.error_label.text() and dialog.isVisible()
    dialog.host_edit.setText("203.0.113.7")
    dialog.add_button.click()
    assert dialog.error_label.text().startswith("name: ") and dialog.profile is None and dialog.isVisible()
    dialog.name_edit.setText("my-box")
    dialog.add_button.click()
    assert dialog.profile is not None and not dialog.isVisible()
    assert (dialog.profile.host, dialog.profile.port, dialog.profile.user) == ("203.0.113.7", 22, "root")
    assert HostStore().all() == []  # the form keeps nothing itself: the page stores what it returns
