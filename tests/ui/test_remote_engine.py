"""The studio on a rented GPU host, offscreen against a real sshd, through the main window: its Engines
page adds the host (its form), the unknown key is asked about in the real fingerprint dialog
(ssh-keygen's fingerprint), the doctor checklist, Connect (the window gives the queue the host's
engine), then the demo rendered from the Render dialog with the host's engine chosen: the queue says
the job runs remotely and its downloaded result opens. Screenshots of the page and the
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

from layer_desktop.engine.server.home import EngineHome
from layer_desktop.remote.ssh.bootstrap import Bootstrap
from layer_desktop.remote.ssh.commands import EnginePlan
from layer_desktop.remote.ssh.connection import SshConnection
from layer_desktop.remote.ssh.hosts import HostStore
from layer_desktop.remote.ssh.known_hosts import KnownHosts
from layer_desktop.ui.widgets.fingerprint_dialog import FingerprintDialog
from layer_desktop.ui.widgets.host_dialog import HostDialog
from tests.remote.ssh.conftest import SshWorld
from tests.remote.ssh.conftest import ssh_world as ssh_world  # the fixture, shared
from tests.remote.ssh.helpers import fast_bootstrap
from tests.ui.studio_driver import close_error_dialogs, open_window

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
    known = KnownHosts()  # the app's own file, which the window's Engines page reads
    with SshConnection(profile, known, accept_fingerprint=ssh_world.host_fingerprint) as conn:
        conn.open()  # bootstrapped beforehand (``layer hosts bootstrap``); then the key is forgotten
        Bootstrap(conn, EnginePlan(profile.work_dir), fast_bootstrap()).run()
    known.forget(profile.host_id)
    window = open_window(qtbot, EngineHome(tmp_path / "engine"))  # the studio, its local engine up
    page, queue = window.engines_page, window.queue
    assert queue is not None and window.engine_link is not None
    window.dock_engines.raise_()
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
        assert queue.hosts() == []  # checked, not connected: renders cannot go there yet

        page.connect_button.click()  # trusted now: no second question
        qtbot.waitUntil(lambda: page.cell("rented-h100", 1) == "connected", timeout=120_000)
        assert shown == [ssh_world.host_fingerprint]
        assert page.cell("rented-h100", 2).startswith("NVIDIA H100 80GB HBM3 (81559 MiB")
        assert page.cell("rented-h100", 2).endswith("(+1 more)")  # the A10G: in the tooltip
        assert "NVIDIA A10G" in page.table.item(page.row_of("rented-h100"), 2).toolTip()
        if SHOTS:
            page.table.resizeColumnToContents(0)
            page.grab().save(str(Path(SHOTS) / "engines_page.png"))
        qtbot.waitUntil(lambda: queue.hosts() == ["rented-h100"], timeout=5000)  # the window registered it

        window.open_demo()
        qtbot.waitUntil(
            lambda: window.document.frame_count == 100 and window.persona_name is not None, timeout=60_000
        )
        window.render_current()  # the Render dialog: the connected host is one of its engines
        dialog = window.render_dialog
        engines = [dialog.engine_box.itemData(i) for i in range(dialog.engine_box.count())]
        assert engines == ["local", "host:rented-h100"]
        dialog.engine_box.setCurrentIndex(1)
        dialog.preset_box.setCurrentText("veryfast")
        target = tmp_path / "out" / "remote.mp4"
        dialog.path_edit.setText(str(target))
        assert dialog.render_button.isEnabled(), dialog.problem.text()
        dialog.render_button.click()
        done = lambda: any(j.downloaded for j in queue.jobs.values()) or window.last_error is not None  # noqa: E731
        qtbot.waitUntil(done, timeout=240_000)
        assert window.last_error is None, window.last_error
        [job] = queue.jobs.values()
        assert job.engine == "remote: rented-h100" and job.via == "host:rented-h100"
        assert job.info.state == "done" and job.target == target
        assert window.engine_link.client().jobs() == []  # the local engine never saw it
        panel = window.queue_panel
        panel.table.selectRow(0)
        assert "runs on the remote: rented-h100 engine" in panel.log.toPlainText()
        assert panel.open_button.isEnabled()
        QDesktopServices.setUrlHandler("file", opener, "open")
        panel.open_button.click()
        assert opener.opened == [target]
        with av.open(str(target)) as video:
            assert sum(1 for _ in video.decode(video=0)) == 100
        # its review records come from the host's engine too: the viewer shows the render, no error
        qtbot.waitUntil(lambda: window.processed.rendered == target or window.last_error is not None)
        assert window.last_error is None, window.last_error

        page.disconnect_button.click()  # the host's row is still selected
        assert queue.hosts() == [] and "host:rented-h100" not in queue.links
        queue.retry(job.info.job_id)  # its engine is gone: a clear refusal, not a traceback
        qtbot.waitUntil(lambda: window.last_error is not None, timeout=5000)
        assert "not connected" in str(window.last_error)
    finally:
        QDesktopServices.unsetUrlHandler("file")
        close_error_dialogs(window)
        window.close()


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
