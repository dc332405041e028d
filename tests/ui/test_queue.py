"""The studio renders through its queue on a real local engine (a child process) and re-attaches to
the engine's jobs after an app restart."""

from __future__ import annotations

from pathlib import Path

import av
from pytestqt.qtbot import QtBot

from layer_desktop.engine.pipeline import TransformSpec
from layer_desktop.engine.server.home import EngineHome
from layer_desktop.errors import EngineUnavailableError
from layer_desktop.remote.ssh.hosts import HostProfile
from layer_desktop.remote.ssh.session import RemoteEngine
from layer_desktop.ui.engine_link import EngineLink, RemoteEngineLink
from layer_desktop.ui.main_window import MainWindow
from layer_desktop.ui.queue import RenderQueue
from layer_desktop.ui.tasks import TaskManager
from layer_desktop.ui.widgets.queue_panel import QueuePanel


def _window(qtbot: QtBot, home: EngineHome) -> MainWindow:
    window = MainWindow(engine=True, engine_home=home)
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: "Local CPU" in window.engine_label.text(), timeout=60_000)
    return window


def test_render_through_the_queue_and_reattach_after_restart(qtbot: QtBot, tmp_path: Path) -> None:
    home = EngineHome(tmp_path / "engine")
    window = _window(qtbot, home)
    assert "CPU" in window.engine_label.text() and "libx264" in window.engine_label.text()
    window.open_demo()
    qtbot.waitUntil(
        lambda: window.document.frame_count == 100 and window.persona_name is not None, timeout=60_000
    )
    window.render_again()  # Ctrl+Shift+R: the default settings, a new file in the renders folder
    queue = window.queue
    assert queue is not None
    done = lambda: any(j.downloaded for j in queue.jobs.values()) or window.last_error is not None  # noqa: E731
    qtbot.waitUntil(done, timeout=180_000)
    assert window.last_error is None, window.last_error
    ((job_id, job),) = queue.jobs.items()
    assert job.info.state == "done" and job.target is not None
    with av.open(str(job.target)) as c:
        assert c.streams.video[0].frames == 100 and c.metadata["synthetic"] == "true"
    panel = window.findChild(QueuePanel)
    assert panel is not None and panel.table.item(0, 2).text() == "done"
    panel.table.selectRow(0)
    assert "saved to" in panel.log.toPlainText() and panel.open_button.isEnabled()
    window.close()
    assert not home.state_file.exists()  # the engine stopped with the app

    again = _window(qtbot, home)  # a new app session: the queue lists the engine's jobs again
    assert again.queue is not None
    qtbot.waitUntil(lambda: job_id in again.queue.jobs, timeout=30_000)  # type: ignore[union-attr]
    assert again.queue.jobs[job_id].target == job.target and again.queue.jobs[job_id].info.state == "done"
    again.close()


def test_render_without_a_video_says_what_to_do(qtbot: QtBot, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    shown: list[BaseException] = []
    monkeypatch.setattr("layer_desktop.ui.main_window.show_error", lambda parent, exc: shown.append(exc))
    window = _window(qtbot, EngineHome(tmp_path / "engine"))
    window.render_current()
    assert "Open a video first" in str(shown[0])
    window.close()


def test_a_host_joins_and_leaves_the_queue_and_a_job_for_a_gone_host_is_refused(
    qtbot: QtBot, tmp_path: Path
) -> None:
    """A connected host's link joins the queue beside the local one (``host:NAME``); once the host is
    removed, a job for it is refused with what to do instead of falling back to the local engine.
    (The render that goes through a host's link: tests/ui/test_remote_engine.py.)"""
    tasks = TaskManager()
    local = EngineLink(tasks, EngineHome(tmp_path / "engine"))  # never started: nothing may reach it
    queue = RenderQueue(local)
    refused: list[BaseException] = []
    queue.failed.connect(refused.append)
    remote = RemoteEngine(HostProfile(name="box", host="203.0.113.7"))  # known, not connected
    link = RemoteEngineLink(tasks, remote)
    spec = TransformSpec(source=str(tmp_path / "in.mp4"), output=str(tmp_path / "out.mp4"), persona="demo")
    try:
        with qtbot.waitSignal(queue.links_changed):
            queue.add_link("box", link)
        assert queue.hosts() == ["box"] and queue.links == {"local": local, "host:box": link}
        with qtbot.waitSignal(queue.links_changed):
            queue.remove_link("box")
        assert queue.hosts() == [] and queue.links == {"local": local}
        queue.submit(spec, engine="host:box")
        assert len(refused) == 1 and "'box' is not connected" in str(refused[0])
        assert isinstance(refused[0], EngineUnavailableError) and "Engines page" in refused[0].hint
        assert queue.jobs == {} and local._client is None  # the local engine was never asked
    finally:
        queue.stop()
        tasks.shutdown()
