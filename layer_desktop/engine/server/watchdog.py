"""The idle watchdog of an engine on a rented box: stop after ``idle_s`` with no job and no API call (and
after ``max_lifetime_s`` whatever happens), so a forgotten GPU box stops costing money. Why it stopped is
written to ``stopped.json`` in the engine home, for the app to show."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from layer_desktop.engine.server.home import write_private

log = logging.getLogger(__name__)


class IdleWatchdog:
    def __init__(
        self,
        idle_s: float,
        max_lifetime_s: float,
        busy: Callable[[], bool],
        stop: Callable[[], None],
        stopped_file: Path,
        *,
        poll: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.idle_s, self.max_lifetime_s = idle_s, max_lifetime_s
        self._busy, self._stop_server, self.stopped_file = busy, stop, stopped_file
        self.poll, self.clock = poll, clock
        self.started = self.last_activity = clock()
        self._halt = threading.Event()
        self._thread = threading.Thread(target=self._run, name="engine-idle-watchdog", daemon=True)

    def touch(self, path: str = "") -> None:
        """An API call arrived. A health probe is not activity: a connected app that only checks the
        link must not keep a forgotten box running."""
        if not path.endswith("/health"):
            self.last_activity = self.clock()

    def reason(self) -> str | None:
        """Why the engine should stop now, or None."""
        now = self.clock()
        if self.max_lifetime_s > 0 and now - self.started >= self.max_lifetime_s:
            return f"reached its maximum lifetime of {self.max_lifetime_s:g} s"
        if self._busy():
            self.last_activity = now  # a running job counts as activity: idle time starts after it
            return None
        if self.idle_s > 0 and now - self.last_activity >= self.idle_s:
            return f"idle for {self.idle_s:g} s (no job and no API call)"
        return None

    def start(self) -> IdleWatchdog:
        if self.idle_s > 0 or self.max_lifetime_s > 0:
            self._thread.start()
        return self

    def close(self) -> None:
        self._halt.set()
        if self._thread.is_alive():
            self._thread.join(5)

    def _run(self) -> None:
        while not self._halt.wait(self.poll):
            why = self.reason()
            if why is not None:
                log.warning("stopping the engine: %s", why)
                write_private(self.stopped_file, json.dumps({"reason": why, "at": time.time()}))
                self._stop_server()
                return
