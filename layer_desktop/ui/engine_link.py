"""The studio's link to its engine: a local engine child process (``LocalEngine``) seen from the GUI,
or (``RemoteEngineLink``) the engine of a GPU host connected on the Engines page. The render queue
takes either: it needs ``tasks``, ``client()``, ``new_client()`` and ``label`` (shown per job).

The engine's status callbacks come from its monitor thread; here they become Qt signals, delivered on
the GUI thread. Starting the engine (a few seconds) runs on the task manager's I/O pool.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal

from layer_desktop.engine.client import EngineClient
from layer_desktop.engine.local import EngineStatus, LocalEngine
from layer_desktop.engine.server.home import EngineHome
from layer_desktop.engine.server.schemas import Capabilities
from layer_desktop.remote.ssh.session import REMOTE_RETRIES, RemoteEngine
from layer_desktop.ui.tasks import TaskManager

log = logging.getLogger(__name__)


class EngineLink(QObject):
    label = "local"  # where its jobs run, as the queue shows it
    status_changed = Signal(object)  # EngineStatus, on the GUI thread
    ready = Signal(object)  # Capabilities, once the engine answers
    failed = Signal(object)  # the exception that kept it from starting

    def __init__(
        self, tasks: TaskManager, home: EngineHome | None = None, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self.engine = LocalEngine(home, on_status=self.status_changed.emit)
        self.capabilities: Capabilities | None = None
        self._client: EngineClient | None = None

    def start(self) -> None:
        def boot() -> Capabilities:
            self.engine.start()
            return self.client().capabilities()

        self.tasks.run(boot, self._on_ready, self.failed.emit, heavy=False)

    def _on_ready(self, caps: Capabilities) -> None:
        self.capabilities = caps
        self.ready.emit(caps)

    def client(self) -> EngineClient:
        """One client for the app; it follows engine restarts (new port and token)."""
        if self._client is None:
            self._client = EngineClient(self.engine.endpoint)
        return self._client

    def new_client(self) -> EngineClient:
        """A client of its own, for a thread that blocks on a stream (closing it ends the stream)."""
        return EngineClient(self.engine.endpoint)

    def stop(self) -> None:
        if self._client is not None:
            self._client.close()
        self.engine.stop()


class RemoteEngineLink(QObject):
    """A connected host's engine for the render queue: clients through its tunnel (they follow a
    reconnect: new tunnel port, same token), jobs labelled ``remote: NAME``."""

    def __init__(self, tasks: TaskManager, remote: RemoteEngine, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.tasks, self.remote = tasks, remote
        self.label = f"remote: {remote.profile.name}"
        self._client: EngineClient | None = None

    def client(self) -> EngineClient:
        if self._client is None:
            self._client = self.new_client()
        return self._client

    def new_client(self) -> EngineClient:
        return EngineClient(self.remote.endpoint, retries=REMOTE_RETRIES)

    def stop(self) -> None:
        """Close the clients; the host's engine and its jobs keep running."""
        if self._client is not None:
            self._client.close()


def describe(status: EngineStatus | None, caps: Capabilities | None) -> str:
    """The status bar text: where the engine runs and what it runs on."""
    if caps is not None and (status is None or status.state == "running"):
        where = "Local GPU" if any(d.startswith("cuda") for d in caps.devices) else "Local CPU"
        providers = ", ".join(p.replace("ExecutionProvider", "") for p in caps.providers_active)
        return f"Engine: {where} · {providers} · {caps.encoder}"
    if status is None:
        return "Engine: starting…"
    reason = f" — {status.reason}" if status.reason else ""
    return f"Engine: {status.state}{reason}"
