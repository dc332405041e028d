"""A small TCP proxy for link faults: ``freeze()`` stops forwarding in both directions without closing
anything (a frozen link: the peers see silence, not a reset); ``delay`` adds one-way latency (half the
round trip) while keeping data in flight, as a WAN does."""

from __future__ import annotations

import contextlib
import queue
import socket
import threading
import time


class Proxy:
    def __init__(self, target_port: int, delay: float = 0.0) -> None:
        self.target_port, self.delay = target_port, delay
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._server.getsockname()[1]
        self._running = threading.Event()
        self._running.set()  # cleared while frozen
        self._closed = threading.Event()
        self._sockets: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._spawn(self._accept)

    def freeze(self) -> None:
        self._running.clear()

    def unfreeze(self) -> None:
        self._running.set()

    def close(self) -> None:
        self._closed.set()
        self._running.set()
        with contextlib.suppress(OSError):
            self._server.shutdown(socket.SHUT_RDWR)
        self._server.close()
        for s in self._sockets:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()
        for t in self._threads:
            t.join(5)

    def _spawn(self, target: object, *args: object) -> None:
        t = threading.Thread(target=target, args=args, daemon=True)  # type: ignore[arg-type]
        self._threads.append(t)
        t.start()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            self._sockets += [client, upstream]
            for src, dst in ((client, upstream), (upstream, client)):
                pipe: queue.Queue[tuple[float, bytes]] = queue.Queue()
                self._spawn(self._read, src, pipe)
                self._spawn(self._write, dst, pipe)

    def _read(self, src: socket.socket, pipe: queue.Queue[tuple[float, bytes]]) -> None:
        while not self._closed.is_set():
            self._running.wait()
            try:
                data = src.recv(65536)
            except OSError:
                data = b""
            pipe.put((time.monotonic() + self.delay, data))
            if not data:
                return

    def _write(self, dst: socket.socket, pipe: queue.Queue[tuple[float, bytes]]) -> None:
        while True:
            due, data = pipe.get()
            while (wait := due - time.monotonic()) > 0:
                time.sleep(wait)
            self._running.wait()
            if not data or self._closed.is_set():
                with contextlib.suppress(OSError):
                    dst.shutdown(socket.SHUT_WR)
                return
            try:
                dst.sendall(data)
            except OSError:
                return
