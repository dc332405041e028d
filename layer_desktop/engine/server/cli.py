"""`layer-engine serve`: run the engine service on 127.0.0.1.

The token comes from the environment (``LAYER_ENGINE_TOKEN``), never from argv (argv is visible to every
user of the machine); without one a random token is made and written, owner-only, to the ready file.
The ready file (JSON: host, port, pid, token) tells the parent app where to connect; it is written only
once the socket listens, and removed at exit.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import secrets
import signal
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

import uvicorn

from layer_desktop.engine.server.app import create_app

log = logging.getLogger(__name__)

HOST = "127.0.0.1"  # never another interface: remote use goes through the SSH tunnel
TOKEN_ENV = "LAYER_ENGINE_TOKEN"


def parse_args(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="layer-engine", description="Layer Desktop engine service")
    sub = ap.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the engine API on 127.0.0.1")
    serve.add_argument("--port", type=int, default=0, help="port (0: pick a free one)")
    serve.add_argument("--ready-file", type=Path, required=True, help="where to write host/port/token JSON")
    return ap.parse_args(argv)


def write_ready_file(path: Path, port: int, token: str) -> None:
    """Write the ready file with owner-only permissions, atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({"host": HOST, "port": port, "pid": os.getpid(), "token": token}, fh)
    os.replace(tmp, path)


class _Server(uvicorn.Server):
    """uvicorn re-raises SIGTERM after shutdown, which would skip our clean-up: stop gracefully instead."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        def stop(signum: int, frame: FrameType | None) -> None:
            self.should_exit = True

        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def serve(port: int, ready_file: Path) -> None:
    token = os.environ.get(TOKEN_ENV) or secrets.token_urlsafe(32)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, port))
    sock.listen(64)
    actual = sock.getsockname()[1]
    config = uvicorn.Config(create_app(token), log_level="warning", access_log=False)
    server = _Server(config)
    write_ready_file(ready_file, actual, token)
    log.info("engine listening on %s:%d", HOST, actual)
    try:
        server.run(sockets=[sock])
    finally:
        ready_file.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.command == "serve":
        serve(args.port, args.ready_file)
    return 0
