"""The engine served from a thread of this process (real HTTP on 127.0.0.1): for tests, benchmarks and
CLI commands that want the service's behaviour without a child process."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

import uvicorn

from layer_desktop.engine.client import Endpoint
from layer_desktop.engine.personas import PersonaStore
from layer_desktop.engine.server.app import create_app
from layer_desktop.engine.server.home import EngineHome, new_token
from layer_desktop.engine.server.service import EngineService
from layer_desktop.engine.server.timeouts import server_config
from layer_desktop.errors import EngineUnavailableError


class InProcessEngine:
    def __init__(
        self, home: EngineHome, *, allowed_roots: Sequence[Path] = (), personas: PersonaStore | None = None
    ) -> None:
        self.service = EngineService(home, allowed_roots=allowed_roots, personas=personas)
        self.token = new_token()
        self.app = create_app(self.service, self.token)
        # IPPROTO_TCP named: asyncio turns Nagle off only on sockets that say so (else ~40 ms a request)
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self.port = int(self._sock.getsockname()[1])
        self._server = uvicorn.Server(server_config(self.app))
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, name="engine-http", daemon=True
        )

    @property
    def endpoint(self) -> Endpoint:
        return Endpoint(f"http://127.0.0.1:{self.port}", self.token)

    def start(self) -> InProcessEngine:
        self.service.start()
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise EngineUnavailableError("The in-process engine did not start.")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(30)
        self.service.stop()
        self._sock.close()

    def __enter__(self) -> InProcessEngine:
        return self.start()

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
