"""A remote engine as the app uses it: connect (host key, login), find or start the engine on the host,
open the tunnel, watch the link; when the link dies, reconnect with backoff and re-attach to the same
engine (jobs keep running on the host meanwhile). ``endpoint`` is what an ``EngineClient`` follows.

    with RemoteEngine(profile, accept=ask_user) as remote, remote.client() as client:
        client.health()

Threads: ``on_status`` is called from the caller's thread and from the reconnect thread; a GUI must
marshal it to its own thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from layer_desktop.engine.client import Endpoint, EngineClient
from layer_desktop.errors import (
    EngineUnavailableError,
    HostKeyChangedError,
    HostKeyUnknownError,
    LayerError,
    SshAuthError,
)
from layer_desktop.remote.ssh.commands import EnginePlan
from layer_desktop.remote.ssh.connection import AcceptKey, SecretSource, SshConnection
from layer_desktop.remote.ssh.engine_host import ClusterLink, EngineRuntime, ensure_engine
from layer_desktop.remote.ssh.hosts import HostProfile
from layer_desktop.remote.ssh.known_hosts import KnownHosts
from layer_desktop.remote.ssh.liveness import LinkMonitor
from layer_desktop.remote.ssh.tunnel import Tunnel, open_forward
from layer_desktop.secrets import KeyringSecrets

log = logging.getLogger(__name__)

RemoteState = Literal["connecting", "connected", "reconnecting", "disconnected", "failed"]
BACKOFF_FIRST, BACKOFF_MAX = 1.0, 30.0
REMOTE_RETRIES = 12  # a client through the tunnel retries this often (a reconnect takes a few tries)
_FATAL = (HostKeyChangedError, HostKeyUnknownError, SshAuthError)  # retrying cannot fix these


@dataclass(frozen=True)
class RemoteStatus:
    state: RemoteState
    reason: str | None = None
    url: str | None = None  # the tunnel's local URL
    engine_pid: int | None = None


@dataclass(frozen=True)
class LinkOptions:
    probe_interval: float = 1.0
    probe_timeout: float = 3.0
    misses: int = 3
    start_timeout: float = 60.0


class RemoteEngine:
    def __init__(
        self,
        profile: HostProfile,
        *,
        known_hosts: KnownHosts | None = None,
        accept: AcceptKey | None = None,
        accept_fingerprint: str | None = None,
        secrets: SecretSource | KeyringSecrets | None = None,
        on_status: Callable[[RemoteStatus], None] | None = None,
        options: LinkOptions | None = None,
        work_dir: str | None = None,
        cluster: ClusterLink | None = None,
    ) -> None:
        self.profile = profile
        self.cluster = cluster  # the engine must drive this Ray cluster (the host is its head)
        self.options = options or LinkOptions()
        self._connect_args = (known_hosts or KnownHosts(), accept, accept_fingerprint, secrets)
        self._on_status = on_status
        self._work_dir = work_dir
        self.conn: SshConnection | None = None
        self.runtime: EngineRuntime | None = None
        self.tunnel: Tunnel | None = None
        self._monitor: LinkMonitor | None = None
        self._closing = threading.Event()
        self._reconnector: threading.Thread | None = None
        self._lock = threading.Lock()
        self.status = RemoteStatus("disconnected")

    # ------------------------------------------------------------------ public

    @property
    def plan(self) -> EnginePlan:
        assert self._work_dir is not None, "connect first"
        return EnginePlan(self._work_dir)

    def connect(self, *, start: bool = True) -> RemoteEngine:
        """Connect and re-attach to (or start) the host's engine; raises the connection's errors."""
        self._closing.clear()
        self._emit("connecting")
        try:
            self._attach(start=start)
        except LayerError as exc:
            self._emit("failed", exc.message)
            self._teardown()
            raise
        return self

    def endpoint(self) -> Endpoint:
        rt, tunnel = self.runtime, self.tunnel
        if rt is None or tunnel is None or self.status.state != "connected":
            why = f": {self.status.reason}" if self.status.reason else ""
            raise EngineUnavailableError(f"The engine on {self.profile.name} is {self.status.state}{why}.")
        return Endpoint(tunnel.url, rt.token)

    def client(self, *, retries: int = REMOTE_RETRIES, timeout: float = 30.0) -> EngineClient:
        """A client through the tunnel. Uploads stream (no round trip per piece); the engine commits
        every 1 MiB and keeps what arrived when the link drops, so a resume re-sends at most the last
        uncommitted piece plus what was still on the wire."""
        return EngineClient(self.endpoint, retries=retries, timeout=timeout)

    def disconnect(self) -> None:
        """Close the tunnel and the connection; the engine (and its jobs) keep running on the host."""
        self._closing.set()
        reconnector = self._reconnector
        if reconnector is not None and reconnector is not threading.current_thread():
            reconnector.join(60)
        self._teardown()
        if self.tunnel is not None:
            self.tunnel.close()
            self.tunnel = None
        self._emit("disconnected")

    def __enter__(self) -> RemoteEngine:
        return self.connect()

    def __exit__(self, *exc: object) -> None:
        self.disconnect()

    # ------------------------------------------------------------------ internals

    def _attach(self, *, start: bool) -> None:
        known, accept, accept_fp, secrets = self._connect_args
        conn = SshConnection(
            self.profile, known, accept=accept, accept_fingerprint=accept_fp, secrets=secrets
        )
        conn.open()
        self.conn = conn
        if self._work_dir is None:
            self._work_dir = resolve_work_dir(conn, self.profile.work_dir)
        self.runtime = rt = ensure_engine(
            conn, self.plan, start=start, idle_stop_s=self.profile.idle_stop_minutes * 60,
            max_lifetime_s=self.profile.max_lifetime_hours * 3600, timeout=self.options.start_timeout,
            cluster=self.cluster or cluster_headed_by(self.profile.name),
        )  # fmt: skip
        open_forward(conn.transport, ("127.0.0.1", rt.port)).close()  # forwarding allowed? (else it raises)
        if self.tunnel is None:
            self.tunnel = Tunnel(lambda: self._live_conn().transport, ("127.0.0.1", rt.port))
        else:
            self.tunnel.retarget(("127.0.0.1", rt.port))
        self._emit("connected", engine_pid=rt.pid)
        with EngineClient(self.endpoint, timeout=10, retries=2) as probe:
            probe.health()
        o = self.options
        self._monitor = LinkMonitor(
            conn.transport,
            self._link_dead,
            interval=o.probe_interval,
            timeout=o.probe_timeout,
            misses=o.misses,
            extra_check=self._engine_problem,
        ).start()

    def _engine_problem(self) -> str | None:
        """Why the engine does not answer ``/v1/health`` through the tunnel (None: it does)."""
        try:
            with EngineClient(self.endpoint, timeout=self.options.probe_timeout, retries=0) as probe:
                probe.health()
        except LayerError as exc:
            return f"the engine does not answer: {exc.message}"
        return None

    def _live_conn(self) -> SshConnection:
        conn = self.conn
        if conn is None:
            raise EngineUnavailableError(f"Not connected to {self.profile.name}.")
        return conn

    def _teardown(self) -> None:
        monitor, self._monitor = self._monitor, None
        conn, self.conn = self.conn, None
        if conn is not None:
            conn.close()  # first: a probe thread waiting for an answer returns when the transport closes
        if monitor is not None:
            monitor.stop()

    def _link_dead(self, reason: str) -> None:
        with self._lock:
            if self._closing.is_set() or (self._reconnector is not None and self._reconnector.is_alive()):
                return
            self._emit("reconnecting", reason)
            self._reconnector = threading.Thread(
                target=self._reconnect, args=(reason,), name="ssh-reconnect", daemon=True
            )
            self._reconnector.start()

    def _reconnect(self, reason: str) -> None:
        monitor, self._monitor = self._monitor, None
        conn, self.conn = self.conn, None
        if conn is not None:
            conn.close()
        if monitor is not None:
            monitor.probe.join()
        delay = BACKOFF_FIRST
        while not self._closing.is_set():
            try:
                self._attach(start=False)
                log.info("re-attached to %s after: %s", self.profile.name, reason)
                return
            except _FATAL as exc:
                self._emit("failed", exc.message)
                return
            except (LayerError, OSError) as exc:
                self._teardown()
                reason = str(exc)
                self._emit("reconnecting", f"{reason}; next try in {delay:g} s")
            self._closing.wait(delay)
            delay = min(delay * 2, BACKOFF_MAX)

    def _emit(self, state: RemoteState, reason: str | None = None, engine_pid: int | None = None) -> None:
        url = self.tunnel.url if self.tunnel is not None and state == "connected" else None
        pid = engine_pid if engine_pid is not None else (self.runtime.pid if self.runtime else None)
        self.status = status = RemoteStatus(state, reason, url, pid)
        log.log(
            logging.WARNING if state in ("reconnecting", "failed") else logging.INFO,
            "%s: %s",
            self.profile.name,
            status,
        )
        if self._on_status is not None:
            try:
                self._on_status(status)
            except Exception:  # a faulty listener must not kill the reconnect thread
                log.exception("remote status listener failed")


def cluster_headed_by(host: str) -> ClusterLink | None:
    """The cluster (``layer cluster up --host``) whose head is ``host``: an engine started there drives
    it (after an idle stop too), so its jobs keep running on every node."""
    from layer_desktop.engine.cluster import registry

    for path in sorted(registry.clusters_dir().glob("*.json")):
        try:
            record = registry.load(path.stem)
            if record.kind == "ssh" and record.head.host == host:
                return ClusterLink(record.address, registry.token(record.name))
        except LayerError as exc:  # a damaged record or a missing token: the engine runs alone
            log.warning("cluster %s: %s", path.stem, exc.message)
    return None


def resolve_work_dir(conn: SshConnection, work_dir: str) -> str:
    """The work dir as an absolute path (a relative one is below the remote user's home)."""
    if work_dir.startswith("/"):
        return work_dir.rstrip("/") or "/"
    home = conn.sftp().normalize(".")
    return f"{home.rstrip('/')}/{work_dir.strip('/')}"
