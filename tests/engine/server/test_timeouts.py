"""Read timeouts on a real engine: a connection whose request head never completes is closed, a body that
stops arriving gets a 408 in the engine's error shape, and ordinary requests are unaffected. The
timeouts are shortened for the test; the socket's own timeout is only a bound on a hang."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from layer_desktop.engine.personas import PersonaStore
from layer_desktop.engine.server import timeouts
from layer_desktop.engine.server.home import EngineHome
from layer_desktop.engine.server.inprocess import InProcessEngine


@pytest.fixture
def engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[InProcessEngine]:
    monkeypatch.setattr(timeouts, "HEADER_TIMEOUT_S", 0.5)
    monkeypatch.setattr(timeouts, "BODY_IDLE_TIMEOUT_S", 0.5)
    personas = PersonaStore(tmp_path / "app" / "layer.sqlite3", tmp_path / "app" / "media")
    running = InProcessEngine(EngineHome(tmp_path / "engine"), personas=personas).start()
    yield running
    running.stop()


def read_all(sock: socket.socket) -> bytes:
    sock.settimeout(20)  # far past the shortened timeouts: a hang fails here
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def test_a_request_head_that_never_completes_is_closed(engine: InProcessEngine) -> None:
    with socket.create_connection(("127.0.0.1", engine.port)) as sock:
        sock.sendall(b"GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        assert read_all(sock) == b""  # closed by the engine, nothing answered


def test_a_silent_connection_is_closed(engine: InProcessEngine) -> None:
    with socket.create_connection(("127.0.0.1", engine.port)) as sock:
        assert read_all(sock) == b""


def test_a_stalled_body_gets_408(engine: InProcessEngine) -> None:
    head = (
        "POST /v1/media/link HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {engine.token}\r\nContent-Type: application/json\r\n"
        "Content-Length: 100\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", engine.port)) as sock:
        sock.sendall(head.encode() + b'{"path": "/tm')
        answer = read_all(sock)
    status, _, rest = answer.partition(b"\r\n")
    assert status.startswith(b"HTTP/1.1 408")
    body = json.loads(rest.split(b"\r\n\r\n", 1)[1])
    assert set(body) == {"error", "hint", "type"} and "stopped arriving" in body["error"]


def read_response(sock: socket.socket) -> tuple[bytes, bytes]:
    """(status line and headers, body) of one response read to its Content-Length."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(
        next(v for k, _, v in (h.partition(b": ") for h in head.split(b"\r\n")) if k == b"content-length")
    )
    while len(body) < length:
        body += sock.recv(65536)
    return head, body


def test_ordinary_requests_still_work_on_a_kept_alive_connection(engine: InProcessEngine) -> None:
    request = f"GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {engine.token}\r\n\r\n"
    with socket.create_connection(("127.0.0.1", engine.port)) as sock:
        sock.settimeout(20)
        for _ in range(2):
            sock.sendall(request.encode())
            head, body = read_response(sock)
            assert head.startswith(b"HTTP/1.1 200") and json.loads(body)["status"] == "ok"
