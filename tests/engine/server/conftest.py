"""Real engine processes for the service tests: started with ``python -m layer_desktop.engine.server``,
killed with SIGKILL, restarted on the same engine home."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from layer_desktop.engine.client import Endpoint
from layer_desktop.engine.server.home import TOKEN_ENV, EngineHome
from layer_desktop.errors import EngineUnavailableError
from tests.clips import decode as decode  # the engine tests import it from here
from tests.conftest import SHARED_MEDIA

TOKEN = "test-token-0123456789abcdef"


class EngineProcess:
    """``layer-engine serve`` as a child process on 127.0.0.1, with its own app home (persona store)."""

    def __init__(self, root: Path, allowed_roots: list[Path]) -> None:
        self.home = EngineHome(root / "engine")
        self.app_home = root / "engine_app_home"
        self.allowed_roots = allowed_roots
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> EngineProcess:
        self.home.state_file.unlink(missing_ok=True)
        env = dict(os.environ, LAYER_HOME=str(self.app_home), **{TOKEN_ENV: TOKEN})
        roots = [a for r in self.allowed_roots for a in ("--allow-root", str(r))]
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "layer_desktop.engine.server",
                "serve",
                "--home",
                str(self.home.root),
                *roots,
            ],
            env=env,
        )
        deadline = time.monotonic() + 60
        while (self.home.read_state() or {}).get("pid") != self.proc.pid:
            assert self.proc.poll() is None, f"engine exited early with {self.proc.returncode}"
            assert time.monotonic() < deadline, "engine did not become ready"
            time.sleep(0.05)
        return self

    def endpoint(self) -> Endpoint:
        state = self.home.read_state()
        if state is None:
            raise EngineUnavailableError("no engine running")
        return Endpoint(f"http://127.0.0.1:{state['port']}", self.home.read_token())

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(30)


@pytest.fixture
def engine_process(tmp_path: Path) -> Iterator[EngineProcess]:
    engine = EngineProcess(tmp_path, [SHARED_MEDIA / "clips", tmp_path / "clips"])
    (tmp_path / "clips").mkdir()
    yield engine
    engine.stop()
