"""Our own liveness probe: paramiko's keepalive only sends and never notices a dead link (a frozen
connection still reports itself active). Each probe is a ``keepalive@openssh.com`` global request that
must be answered (success or failure, either means the server is there) within ``timeout``; a request
still unanswered counts as one more miss for every further ``timeout`` it waits. ``misses`` in a row
declare the link dead."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable

import paramiko

log = logging.getLogger(__name__)

KEEPALIVE = "keepalive@openssh.com"


class KeepaliveProbe:
    """One outstanding keepalive request at a time on ``transport``."""

    def __init__(self, transport: paramiko.Transport) -> None:
        self.transport = transport
        self._answered = threading.Event()
        self._thread: threading.Thread | None = None

    def wait_answer(self, timeout: float) -> bool:
        """Send a request unless one is outstanding; True when it was answered within ``timeout``."""
        if self._thread is None:
            self._answered.clear()
            self._thread = threading.Thread(target=self._ask, name="ssh-keepalive", daemon=True)
            self._thread.start()
        if not self._answered.wait(timeout):
            return False
        self._thread.join()
        self._thread = None
        return bool(self.transport.is_active())

    def _ask(self) -> None:
        with contextlib.suppress(paramiko.SSHException, OSError, EOFError):
            self.transport.global_request(KEEPALIVE, wait=True)  # returns at the answer or when closed
        self._answered.set()

    def join(self) -> None:
        if self._thread is not None:
            self._thread.join(5)


class LinkMonitor:
    """Probes every ``interval`` s; calls ``on_dead(reason)`` once after ``misses`` misses in a row."""

    def __init__(
        self,
        transport: paramiko.Transport,
        on_dead: Callable[[str], None],
        *,
        interval: float = 1.0,
        timeout: float = 3.0,
        misses: int = 3,
        extra_check: Callable[[], str | None] | None = None,
    ) -> None:
        self.probe = KeepaliveProbe(transport)
        self.on_dead, self.interval, self.timeout, self.misses = on_dead, interval, timeout, misses
        self.extra_check = extra_check  # the engine's /v1/health: a reason when it fails
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ssh-link-monitor", daemon=True)

    def start(self) -> LinkMonitor:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join(10)
        self.probe.join()

    def _run(self) -> None:
        missed, reason = 0, ""
        while not self._stop.is_set():
            answered = self.probe.wait_answer(self.timeout)
            if answered:
                problem = self.extra_check() if self.extra_check else None
                missed, reason = (missed + 1, problem) if problem else (0, "")
            else:
                missed += 1
                reason = f"no answer to the keepalive probe for {missed * self.timeout:g} s"
            if missed >= self.misses:
                log.warning("link dead: %s", reason)
                self.on_dead(reason)
                return
            self._stop.wait(self.interval if answered else 0)  # a miss already waited ``timeout``
