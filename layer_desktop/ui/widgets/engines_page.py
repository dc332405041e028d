"""The Engines dock: this computer and each GPU host, with its state, GPU and Add host / Connect /
Doctor buttons.

Network work runs on the task manager's I/O pool; a host's unknown key is asked about on the GUI thread
(``FingerprintDialog``) between looking at the key and logging in; status changes of a connected host come
from its reconnect thread and are marshalled here by a queued signal. ``engine_connected`` /
``engine_disconnected`` tell the window when a host's engine can take jobs (and when it no longer can)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from layer_desktop.errors import LayerError
from layer_desktop.remote.ssh.commands import EnginePlan
from layer_desktop.remote.ssh.connection import HostKeyInfo, SshConnection, peek_host_key
from layer_desktop.remote.ssh.doctor import Check, run_doctor
from layer_desktop.remote.ssh.hosts import HostProfile, HostStore
from layer_desktop.remote.ssh.known_hosts import KnownHosts
from layer_desktop.remote.ssh.session import RemoteEngine, RemoteStatus, resolve_work_dir
from layer_desktop.ui.tasks import TaskManager
from layer_desktop.ui.widgets.fingerprint_dialog import ask_fingerprint
from layer_desktop.ui.widgets.host_dialog import HostDialog

log = logging.getLogger(__name__)

AskKey = Callable[[str, str, str], bool]
_MARK = {"ok": "✔", "warning": "⚠", "failure": "✖"}


class EnginesPage(QWidget):
    status_changed = Signal(str, object)  # host name, RemoteStatus (from any thread)
    engine_connected = Signal(str)  # host name: its engine answers (again, after a reconnect)
    engine_disconnected = Signal(str)  # host name: disconnected on this page

    def __init__(
        self,
        tasks: TaskManager,
        store: HostStore | None = None,
        known_hosts: KnownHosts | None = None,
        ask: AskKey | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.tasks, self.store, self.known_hosts = tasks, store or HostStore(), known_hosts or KnownHosts()
        self.ask: AskKey = ask or (lambda host, fp, kind: ask_fingerprint(self, host, fp, kind))
        self.remotes: dict[str, RemoteEngine] = {}
        self.checks: dict[str, list[Check]] = {}
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["Engine", "State", "GPU"])
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.add_button = QPushButton("Add host…")
        self.connect_button, self.doctor_button = QPushButton("Connect"), QPushButton("Doctor")
        self.disconnect_button = QPushButton("Disconnect")
        self.details = QLabel()
        self.details.setWordWrap(True)
        buttons = QHBoxLayout()
        for b in (self.add_button, self.connect_button, self.doctor_button, self.disconnect_button):
            buttons.addWidget(b)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.details)
        self.add_button.clicked.connect(self.add_host)
        self.connect_button.clicked.connect(lambda: self._on_selected(self.connect_host))
        self.doctor_button.clicked.connect(lambda: self._on_selected(self.doctor_host))
        self.disconnect_button.clicked.connect(lambda: self._on_selected(self.disconnect_host))
        self.status_changed.connect(self._show_status)
        self.reload()

    # ------------------------------------------------------------------ rows

    def reload(self) -> None:
        hosts = self.store.all()
        self.table.setRowCount(1 + len(hosts))
        self._set_row(0, "Local (this computer)", "running in the app", "")
        for i, p in enumerate(hosts, 1):
            remote = self.remotes.get(p.name)
            state = remote.status.state if remote else "disconnected"
            self._set_row(i, f"{p.name}  ({p.user}@{p.host}:{p.port})", state, self._gpu_text(p.name))
            if (gpu_item := self.table.item(i, 2)) is not None:
                gpu_item.setToolTip(self._gpu_detail(p.name))

    def row_of(self, name: str) -> int:
        names = [p.name for p in self.store.all()]
        return 1 + names.index(name)

    def cell(self, name: str, column: int) -> str:
        item = self.table.item(self.row_of(name), column)
        return item.text() if item is not None else ""

    def _set_row(self, row: int, *texts: str) -> None:
        for column, text in enumerate(texts):
            self.table.setItem(row, column, QTableWidgetItem(text))

    def _gpu_text(self, name: str) -> str:
        """The first GPU (name, memory, load) and how many more: the row stays readable; the whole
        doctor line is the cell's tooltip."""
        gpus = self._gpu_detail(name).split("; ")
        return gpus[0] + (f" (+{len(gpus) - 1} more)" if len(gpus) > 1 else "")

    def _gpu_detail(self, name: str) -> str:
        gpu = next((c for c in self.checks.get(name, []) if c.name == "gpu"), None)
        return gpu.detail if gpu else ""

    def _on_selected(self, action: Callable[[str], None]) -> None:
        row = self.table.currentRow()
        hosts = self.store.all()
        if 1 <= row <= len(hosts):
            action(hosts[row - 1].name)

    def _show_status(self, name: str, status: RemoteStatus) -> None:
        item = self.table.item(self.row_of(name), 1)
        text = status.state + (f": {status.reason}" if status.reason else "")
        if item is not None:
            item.setText(text)
        if status.state == "connected" and name in self.remotes:
            self.engine_connected.emit(name)

    def _fail(self, name: str) -> Callable[[BaseException], None]:
        def show(exc: BaseException) -> None:
            message = exc.user_text() if isinstance(exc, LayerError) else str(exc)
            self.details.setText(f"{name}: {message}")
            self.status_changed.emit(name, RemoteStatus("failed", str(getattr(exc, "message", exc))))

        return show

    # ------------------------------------------------------------------ actions

    def add_host(self) -> HostProfile | None:
        """Ask for a host (``HostDialog``), keep it and select its row; None when cancelled."""
        dialog = HostDialog(self)
        if dialog.exec() != HostDialog.DialogCode.Accepted or dialog.profile is None:
            return None
        self.store.put(dialog.profile)
        self.reload()
        self.table.selectRow(self.row_of(dialog.profile.name))
        self.details.setText(f"{dialog.profile.name} added: Doctor checks it, Connect starts its engine.")
        return dialog.profile

    def connect_host(self, name: str) -> None:
        self.status_changed.emit(name, RemoteStatus("connecting"))
        self._with_trusted_key(name, self._connect)

    def _with_trusted_key(self, name: str, then: Callable[[HostProfile, str], None]) -> None:
        """Look at the host's key (I/O pool), ask about an unknown one (GUI thread), then ``then(profile,
        fingerprint)`` with the key the user accepted; a declined key goes no further."""
        profile = self.store.get(name)

        def peeked(info: HostKeyInfo) -> None:
            if not info.trusted and not self.ask(info.host_id, info.fingerprint, info.kind):
                self.status_changed.emit(name, RemoteStatus("disconnected", "host key not trusted"))
                return
            then(profile, info.fingerprint)

        self.tasks.run(
            lambda: peek_host_key(profile, self.known_hosts), peeked, self._fail(name), heavy=False
        )

    def _connect(self, profile: HostProfile, fingerprint: str) -> None:
        remote = RemoteEngine(profile, known_hosts=self.known_hosts, accept_fingerprint=fingerprint,
                              on_status=lambda s: self.status_changed.emit(profile.name, s))  # fmt: skip
        self.remotes[profile.name] = remote
        self.tasks.run(remote.connect, lambda _: None, self._fail(profile.name), heavy=False)

    def doctor_host(self, name: str) -> None:
        """The host's checklist; a host met for the first time has its key asked about first."""
        self._with_trusted_key(name, self._doctor)

    def _doctor(self, profile: HostProfile, fingerprint: str) -> None:
        def work() -> list[Check]:
            with SshConnection(profile, self.known_hosts, accept_fingerprint=fingerprint) as conn:
                conn.open()
                return run_doctor(conn, EnginePlan(resolve_work_dir(conn, profile.work_dir)).work_dir)

        name = profile.name
        self.tasks.run(work, lambda checks: self._doctored(name, checks), self._fail(name), heavy=False)

    def _doctored(self, name: str, checks: list[Check]) -> None:
        self.checks[name] = checks
        lines = [
            f"{_MARK[c.level]} {c.name}: {c.detail}" + (f" — {c.todo}" if c.todo and c.level != "ok" else "")
            for c in checks
        ]
        self.details.setText(f"{name}:\n" + "\n".join(lines))
        item = self.table.item(self.row_of(name), 2)
        if item is not None:
            item.setText(self._gpu_text(name))
            item.setToolTip(self._gpu_detail(name))

    def disconnect_host(self, name: str) -> None:
        remote = self.remotes.pop(name, None)
        if remote is not None:
            self.engine_disconnected.emit(name)
            remote.disconnect()

    def engine_for(self, name: str) -> RemoteEngine | None:
        """A connected host's engine (its ``endpoint`` is what an ``EngineClient`` follows)."""
        return self.remotes.get(name)

    def shutdown(self) -> None:
        """Close every tunnel and connection (the engines and their jobs keep running on the hosts)."""
        for name in list(self.remotes):
            self.disconnect_host(name)
