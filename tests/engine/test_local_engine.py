"""The local engine manager with real child processes: start, crash and restart, clean stop, failures."""

from __future__ import annotations

import os
import queue
import signal
import stat
import sys
import threading
import time
from pathlib import Path

import pytest

from layer_desktop.engine.client import EngineClient
from layer_desktop.engine.local import (
    DEFAULT_NICENESS,
    EngineStatus,
    LocalEngine,
    backoff_delay,
    exit_reason,
    serve_command,
)
from layer_desktop.engine.server.home import EngineHome
from layer_desktop.errors import EngineUnavailableError


class StatusLog:
    """Collects the statuses the monitor thread reports, and waits for one."""

    def __init__(self) -> None:
        self.seen: list[EngineStatus] = []
        self._queue: queue.Queue[EngineStatus] = queue.Queue()

    def __call__(self, status: EngineStatus) -> None:
        self._queue.put(status)

    def wait_for(self, state: str, timeout: float = 30) -> EngineStatus:
        deadline = time.monotonic() + timeout
        while True:
            status = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            self.seen.append(status)
            if status.state == state:
                return status


def fake_python(tmp_path: Path, body: str) -> str:
    script = tmp_path / "fake-python"
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(0o755)
    return str(script)


def monitor_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "layer-engine-monitor"]


def test_started_engine_answers_with_private_state_and_no_token_in_argv(tmp_path: Path) -> None:
    home = EngineHome(tmp_path / "engine")
    statuses = StatusLog()
    with LocalEngine(home, allowed_roots=[tmp_path], on_status=statuses) as engine, engine.client() as client:
        assert client.health()["status"] == "ok"
        statuses.wait_for("starting")
        statuses.wait_for("running")
        running = engine.status
        assert running.pid is not None and running.state == "running" and running.url == engine.endpoint().url
        assert stat.S_IMODE(home.state_file.stat().st_mode) == 0o600
        assert stat.S_IMODE(home.token_file.stat().st_mode) == 0o600
        state = home.read_state()
        assert state is not None and state["pid"] == running.pid
        token = engine.endpoint().token
        cmdline = Path(f"/proc/{running.pid}/cmdline").read_bytes()
        assert token.encode() not in cmdline and b"--allow-root\x00" + str(tmp_path).encode() in cmdline
        assert os.getpgid(running.pid) == running.pid  # its own session: a terminal's Ctrl-C misses it
        # below the app's priority, every thread of it (the render's too): the studio stays responsive
        expected = min(os.getpriority(os.PRIO_PROCESS, 0) + DEFAULT_NICENESS, 19)
        threads = [int(t.name) for t in Path(f"/proc/{running.pid}/task").iterdir()]
        assert len(threads) > 1 and {os.getpriority(os.PRIO_PROCESS, t) for t in threads} == {expected}
        group = Path(f"/proc/{running.pid}/autogroup")  # its own session's group (autogroup kernels)
        assert not group.exists() or group.read_text().split()[-1] == str(expected)
        engine.restart()  # asked for by the user: a fresh process, and the client follows it
        assert statuses.wait_for("restarting").reason == "restart requested"
        restarted = statuses.wait_for("running")
        assert restarted.pid is not None and restarted.pid != running.pid and engine.endpoint().token != token
        assert client.health()["status"] == "ok"
        with pytest.raises(ProcessLookupError):
            os.kill(running.pid, 0)
    stopped = statuses.wait_for("stopped")
    assert stopped.pid is None and engine.status.state == "stopped"
    with pytest.raises(ProcessLookupError):
        os.kill(restarted.pid, 0)
    assert not home.state_file.exists() and not home.token_file.exists()
    assert monitor_threads() == []
    with pytest.raises(EngineUnavailableError, match="not running"):
        engine.endpoint()
    engine.stop()  # idempotent: no second "stopped"
    with pytest.raises(queue.Empty):
        statuses.wait_for("stopped", timeout=0.2)


def test_killed_engine_is_restarted_and_the_same_client_follows_it(tmp_path: Path) -> None:
    statuses = StatusLog()
    engine = LocalEngine(EngineHome(tmp_path / "engine"), allowed_roots=[], on_status=statuses)
    try:
        engine.start()
        client = EngineClient(engine.endpoint)
        first = statuses.wait_for("running")
        assert first.pid is not None
        old_endpoint = engine.endpoint()
        assert client.health()["status"] == "ok"
        os.kill(first.pid, signal.SIGKILL)
        assert client.health()["status"] == "ok"  # retried across the restart: new port and token
        crashed = statuses.wait_for("crashed")
        assert crashed.reason is not None and "SIGKILL" in crashed.reason
        assert statuses.wait_for("restarting").reason == crashed.reason
        again = statuses.wait_for("running")
        assert again.pid not in (None, first.pid) and again.restarts == 1
        assert engine.endpoint() != old_endpoint
        client.close()
    finally:
        engine.stop()
    assert monitor_threads() == []


def test_engine_that_cannot_start_raises_with_its_exit_code_and_output(tmp_path: Path) -> None:
    python = fake_python(tmp_path, 'echo "engine: cannot open the database" >&2; exit 3')
    statuses = StatusLog()
    engine = LocalEngine(EngineHome(tmp_path / "engine"), python=python, allowed_roots=[], on_status=statuses)
    with pytest.raises(EngineUnavailableError) as info:
        engine.start()
    assert "exited with code 3: engine: cannot open the database" in str(info.value)
    assert "engine-console.log" in info.value.hint
    failed = statuses.wait_for("failed")
    assert failed.reason == str(info.value)
    assert monitor_threads() == []
    engine.stop()


def test_unusable_home_raises_engine_unavailable(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    engine = LocalEngine(EngineHome(not_a_folder / "engine"), allowed_roots=[])
    with pytest.raises(EngineUnavailableError, match="cannot start") as info:
        engine.start()
    assert info.value.path == str(not_a_folder / "engine")
    assert engine.status.state == "failed"
    engine.stop()


def test_crash_loop_gives_up_after_max_restarts(tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    # the first start runs the real engine; once `broken` exists every start fails at once
    python = fake_python(
        tmp_path,
        f'[ -e "{broken}" ] && {{ echo "boom: out of luck" >&2; exit 1; }}\nexec "{sys.executable}" "$@"',
    )
    statuses = StatusLog()
    engine = LocalEngine(
        EngineHome(tmp_path / "engine"), python=python, allowed_roots=[], on_status=statuses, max_restarts=2
    )
    try:
        engine.start()
        pid = statuses.wait_for("running").pid
        assert pid is not None
        broken.touch()
        os.kill(pid, signal.SIGKILL)
        failed = statuses.wait_for("failed")
        assert failed.reason is not None and "exited with code 1: boom: out of luck" in failed.reason
        assert failed.reason.startswith("gave up after 3 crashes within 5 minutes")
        states = [s.state for s in statuses.seen]
        assert states.count("crashed") == 3 and states.count("restarting") == 2
        for _ in range(50):  # the monitor thread ends once it gives up
            if not monitor_threads():
                break
            time.sleep(0.05)
        assert monitor_threads() == []
        with pytest.raises(EngineUnavailableError, match="failed"):
            engine.endpoint()
    finally:
        engine.stop()


def test_command_line_and_reasons_are_built_as_documented(tmp_path: Path) -> None:
    home = EngineHome(tmp_path / "e")
    argv = serve_command("/py", home, [Path("/a"), Path("/b c")])
    assert argv == [
        "/py", "-m", "layer_desktop.engine.server", "serve", "--home", str(home.root), "--port", "0",
        "--parent-pid", str(os.getpid()), "--nice", "10", "--allow-root", "/a", "--allow-root", "/b c",
    ]  # fmt: skip
    assert exit_reason(-9) == "the engine was killed by signal SIGKILL"
    assert exit_reason(1, "Traceback: x") == "the engine exited with code 1: Traceback: x"
    assert [backoff_delay(n) for n in (1, 2, 3, 4, 8)] == [0.5, 1, 2, 4, 30]
