"""The local engine: ``layer-engine serve`` as a child process of the app, watched and restarted.

    with LocalEngine(on_status=show) as engine:
        client = EngineClient(engine.endpoint)   # the bound method: follows restarts (new port, new token)
        client.health()

The child runs in its own session, so a Ctrl-C in the app's terminal reaches the app only (which then stops
the engine cleanly, once). Its output goes to ``<home>/logs/engine-console.log``, never to a pipe that could
fill and block it. If it dies while not being stopped, the manager reports ``crashed`` with the reason and
starts it again after a back-off (0.5 s, 1 s, 2 s … 30 s); after more than ``max_restarts`` crashes within
five minutes it gives up (``failed``). Nothing global is registered (no atexit): the app calls ``stop()``.

Threads: ``on_status`` is called from the monitor thread (and from the thread calling ``start``, ``stop``
or ``restart``). A GUI must marshal it to its own thread (a queued Qt signal) and never touch a widget in
it; nor may it call ``stop``/``restart`` from inside the callback.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal

from layer_desktop.engine.client import Endpoint, EngineClient
from layer_desktop.engine.server.home import TOKEN_ENV, EngineHome, new_token
from layer_desktop.errors import EngineUnavailableError, LayerError
from layer_desktop.paths import resources_dir

log = logging.getLogger(__name__)

EngineState = Literal["starting", "running", "crashed", "restarting", "failed", "stopped"]
CRASH_WINDOW = 300.0  # seconds: older crashes no longer count towards max_restarts
BACKOFF_FIRST, BACKOFF_MAX = 0.5, 30.0
_POLL = 0.05
_CONSOLE_MAX = 5_000_000  # the console log starts afresh beyond this size
_TAIL_LINES = 8
# the app's own engine runs below the app's priority (CFS weight 110 against 1024): a render takes every
# core the studio is not using, and scrubbing stays smooth while it runs
DEFAULT_NICENESS = 10


@dataclass(frozen=True)
class EngineStatus:
    state: EngineState
    reason: str | None = None  # why it crashed / failed / restarts, in words for the user
    pid: int | None = None
    url: str | None = None
    restarts: int = 0  # automatic restarts since start()


def default_allowed_roots() -> list[Path]:
    """Folders a local engine may read in place: the user's home (where their videos and photos live, so
    large files are linked rather than copied) and the app's resources (demo media). Files elsewhere
    (another disk, /media/…) are uploaded into the engine's media store instead, which still works."""
    roots = [Path.home()]
    with contextlib.suppress(FileNotFoundError):
        roots.append(resources_dir())
    return roots


def engine_program(python: str) -> list[str]:
    """How to run the engine: ``python -m …``, or in a frozen app the ``layer-engine`` beside it."""
    if getattr(sys, "frozen", False):
        return [str(Path(sys.executable).with_name("layer-engine" + (".exe" if os.name == "nt" else "")))]
    return [python, "-m", "layer_desktop.engine.server"]


def serve_command(
    python: str, home: EngineHome, allowed_roots: Sequence[Path], niceness: int = DEFAULT_NICENESS
) -> list[str]:
    """The child's argv (the token is never in it: argv is visible to every user of the machine)."""
    argv = [*engine_program(python), "serve", "--home", str(home.root), "--port", "0",
            "--parent-pid", str(os.getpid()), "--nice", str(niceness)]  # fmt: skip
    for root in allowed_roots:
        argv += ["--allow-root", str(root)]
    return argv


def exit_reason(returncode: int, last_line: str | None = None) -> str:
    """``returncode`` of the child in words, e.g. "the engine was killed by signal SIGKILL"."""
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = str(-returncode)
        return f"the engine was killed by signal {name}"
    reason = f"the engine exited with code {returncode}"
    return f"{reason}: {last_line}" if last_line else reason


def backoff_delay(crashes: int) -> float:
    """Seconds to wait before restarting after the ``crashes``-th crash in the window."""
    return min(BACKOFF_FIRST * 2.0 ** (crashes - 1), BACKOFF_MAX)


def _session_options() -> dict[str, Any]:
    if sys.platform == "win32":
        return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}
    return {"start_new_session": True}


class LocalEngine:
    """Starts, watches, restarts and stops the app's own engine process."""

    def __init__(
        self,
        home: EngineHome | None = None,
        *,
        allowed_roots: Sequence[Path] | None = None,
        python: str = sys.executable,
        on_status: Callable[[EngineStatus], None] | None = None,
        start_timeout: float = 60,
        max_restarts: int = 5,
        env: Mapping[str, str] | None = None,
        niceness: int = DEFAULT_NICENESS,
    ) -> None:
        self.home = home or EngineHome.default()
        self.niceness = niceness
        self.allowed_roots = list(default_allowed_roots() if allowed_roots is None else allowed_roots)
        self.python, self.start_timeout, self.max_restarts = python, start_timeout, max_restarts
        self._env, self._on_status = env, on_status
        self._lock = threading.Lock()  # orders spawning against stop()
        self._stopping = threading.Event()
        self._proc: subprocess.Popen[bytes] | None = None
        self._endpoint: Endpoint | None = None
        self._monitor: threading.Thread | None = None
        self._console_offset = 0
        self._restarts = 0
        self._status = EngineStatus("stopped")

    @property
    def console_log(self) -> Path:
        return self.home.log_file.parent / "engine-console.log"

    @property
    def status(self) -> EngineStatus:
        return self._status

    def endpoint(self) -> Endpoint:
        """The running engine's url and token; raises ``EngineUnavailableError`` while none is up."""
        ep = self._endpoint
        if ep is None:
            why = f": {self._status.reason}" if self._status.reason else ""
            raise EngineUnavailableError(f"The local engine is not running ({self._status.state}{why}).")
        return ep

    def client(self) -> EngineClient:
        """A client that follows restarts (close it when done)."""
        return EngineClient(self.endpoint)

    def start(self) -> None:
        """Start the engine and wait until it answers; raises ``EngineUnavailableError`` saying why not."""
        if self._monitor is not None and self._monitor.is_alive():
            return
        self._stopping.clear()
        self._restarts = 0
        self._emit("starting")
        try:
            self._launch()
        except EngineUnavailableError as exc:
            self._emit("failed", str(exc))
            raise
        self._emit("running")
        self._monitor = threading.Thread(target=self._watch, name="layer-engine-monitor", daemon=True)
        self._monitor.start()

    def stop(self, timeout: float = 15) -> None:
        """Stop the engine (SIGTERM, SIGKILL after ``timeout`` s) and its monitor thread; idempotent."""
        was_stopped = self._status.state == "stopped" and self._proc is None
        self._shutdown(timeout)
        if not was_stopped:
            self._emit("stopped")

    def restart(self, timeout: float = 15) -> None:
        """A restart the user asked for (resets the crash count); raises like ``start``."""
        self._emit("restarting", "restart requested")
        self._shutdown(timeout)
        self.start()

    def __enter__(self) -> LocalEngine:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ child process

    def _launch(self) -> None:
        token = new_token()
        env = {**(os.environ if self._env is None else self._env), TOKEN_ENV: token}
        argv = serve_command(self.python, self.home, self.allowed_roots, self.niceness)
        try:
            self.home.ensure()
            with self._lock, self._open_console() as console:
                if self._stopping.is_set():
                    raise EngineUnavailableError("The local engine is being stopped.")
                self._console_offset = console.tell()
                self._proc = proc = subprocess.Popen(
                    argv, stdin=subprocess.DEVNULL, stdout=console, stderr=subprocess.STDOUT, env=env,
                    close_fds=True, **_session_options(),
                )  # fmt: skip
        except OSError as exc:
            raise EngineUnavailableError(
                f"The local engine cannot start: {exc}.", path=self.home.root
            ) from exc
        try:
            self._endpoint = self._wait_ready(proc, token)
        except EngineUnavailableError:
            self._terminate(proc, 5)
            raise

    def _open_console(self) -> IO[bytes]:
        self.console_log.parent.mkdir(parents=True, exist_ok=True)
        big = self.console_log.exists() and self.console_log.stat().st_size > _CONSOLE_MAX
        return self.console_log.open("wb" if big else "ab", buffering=0)

    def _wait_ready(self, proc: subprocess.Popen[bytes], token: str) -> Endpoint:
        deadline, last = time.monotonic() + self.start_timeout, "it wrote no state file"
        probe: EngineClient | None = None
        try:
            while time.monotonic() < deadline and not self._stopping.is_set():
                if proc.poll() is not None:
                    raise self._start_error(exit_reason(proc.returncode, self._last_line()))
                state = self.home.read_state() if probe is None else None
                if state is not None and state.get("pid") == proc.pid:
                    host = f"[{state['host']}]" if ":" in state["host"] else state["host"]
                    probe = EngineClient(
                        Endpoint(f"http://{host}:{state['port']}", token), timeout=2, retries=0
                    )
                if probe is not None:
                    try:
                        probe.health()
                        return probe.endpoint
                    except LayerError as exc:
                        last = f"health check: {exc}"
                time.sleep(_POLL)
        finally:
            if probe is not None:
                probe.close()
        if self._stopping.is_set():
            raise EngineUnavailableError("The local engine was stopped while starting.")
        raise self._start_error(f"it did not answer within {self.start_timeout:g} s ({last})")

    def _start_error(self, reason: str) -> EngineUnavailableError:
        tail = "\n".join(f"  {line}" for line in self._tail(_TAIL_LINES))
        output = f"\nIts last output:\n{tail}" if tail else ""
        return EngineUnavailableError(
            f"The local engine did not start: {reason}.{output}",
            hint=f"See {self.console_log} and {self.home.log_file}.",
        )

    def _tail(self, n: int) -> list[str]:
        """The last ``n`` non-empty lines the current child wrote to the console log."""
        try:
            with self.console_log.open("rb") as fh:
                size = fh.seek(0, os.SEEK_END)
                fh.seek(max(self._console_offset, size - 16_384))
                text = fh.read().decode("utf-8", "replace")
        except OSError:
            return []
        return [line.strip() for line in text.splitlines() if line.strip()][-n:]

    def _last_line(self) -> str | None:
        tail = self._tail(1)
        return tail[0] if tail else None

    def _terminate(self, proc: subprocess.Popen[bytes], timeout: float) -> None:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                log.warning("engine %d ignored SIGTERM for %g s; killing it", proc.pid, timeout)
                if sys.platform != "win32":  # its own session: helpers it started go too
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.killpg(proc.pid, signal.SIGKILL)
                proc.kill()
                proc.wait()
        self._forget_state(proc.pid)

    def _forget_state(self, pid: int) -> None:
        """Remove the state and token files of a child that died without cleaning up after itself."""
        state = self.home.read_state()
        if state is not None and state.get("pid") == pid:
            self.home.state_file.unlink(missing_ok=True)
            self.home.token_file.unlink(missing_ok=True)

    def _shutdown(self, timeout: float) -> None:
        with self._lock:
            self._stopping.set()
            proc = self._proc
        if proc is not None:
            self._terminate(proc, timeout)
        monitor = self._monitor
        if monitor is not None and monitor is not threading.current_thread():
            monitor.join()
            self._monitor = None
        self._proc, self._endpoint = None, None

    # ------------------------------------------------------------------ monitor thread

    def _watch(self) -> None:
        crashes: list[float] = []
        failure = self._wait_exit()
        while failure is not None:
            now = time.monotonic()
            crashes = [t for t in crashes if now - t < CRASH_WINDOW] + [now]
            self._endpoint = None
            self._emit("crashed", failure)
            if len(crashes) > self.max_restarts:
                within = f"{len(crashes)} crashes within {CRASH_WINDOW / 60:g} minutes"
                self._emit("failed", f"gave up after {within}; the last: {failure}")
                return
            if self._stopping.wait(backoff_delay(len(crashes))):
                return
            self._restarts += 1
            self._emit("restarting", failure)
            try:
                self._launch()
            except EngineUnavailableError as exc:  # its first line says why; the rest is the log tail
                failure = None if self._stopping.is_set() else exc.message.partition("\n")[0]
                continue
            self._emit("running")
            failure = self._wait_exit()

    def _wait_exit(self) -> str | None:
        """Block until the child exits: why, or None when it was stopped on purpose."""
        proc = self._proc
        if proc is None or self._stopping.is_set():
            return None
        code = proc.wait()
        if self._stopping.is_set():
            return None
        self._forget_state(proc.pid)
        return exit_reason(code, self._last_line())

    def _emit(self, state: EngineState, reason: str | None = None) -> None:
        proc, ep = self._proc, self._endpoint
        pid = proc.pid if proc is not None and proc.poll() is None else None
        url = ep.url if ep is not None and state == "running" else None
        self._status = status = EngineStatus(state, reason, pid, url, self._restarts)
        log.log(logging.WARNING if state in ("crashed", "failed") else logging.INFO, "engine %s", status)
        if self._on_status is not None:
            try:
                self._on_status(status)
            except Exception:  # a faulty listener must not kill the monitor
                log.exception("engine status listener failed")
