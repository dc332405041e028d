"""A real HTTP file server on 127.0.0.1 that honours Range requests and can drop a connection half way.

Every request is logged (path, Range header, status, body bytes sent) so tests assert on what went over
the wire.
"""

from __future__ import annotations

import os
import re
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# Two model-sized payloads with different hashes, shared by the model tests.
PAYLOAD = os.urandom(300_000)
WRONG = os.urandom(300_000)


@dataclass
class Hit:
    path: str
    range_header: str | None
    status: int
    bytes_sent: int


@dataclass
class RangeServer:
    files: dict[str, bytes] = field(default_factory=dict)
    drop_after: dict[str, int] = field(default_factory=dict)  # path -> bytes sent before a one-time drop
    ignore_range: bool = False
    hits: list[Hit] = field(default_factory=list)
    _httpd: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        assert self._httpd is not None
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def start(self) -> RangeServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                server._serve(self)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(0.05,), name="range-server", daemon=False
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _serve(self, req: BaseHTTPRequestHandler) -> None:
        path = req.path.lstrip("/")
        body = self.files.get(path)
        range_header = req.headers.get("Range")
        if body is None:
            req.send_error(404)
            self.hits.append(Hit(path, range_header, 404, 0))
            return
        start = 0
        match = re.fullmatch(r"bytes=(\d+)-", range_header or "")
        status = 200
        if match and not self.ignore_range:
            start = int(match.group(1))
            if start >= len(body):
                req.send_response(416)
                req.send_header("Content-Range", f"bytes */{len(body)}")
                req.end_headers()
                self.hits.append(Hit(path, range_header, 416, 0))
                return
            status = 206
        payload = body[start:]
        req.send_response(status)
        req.send_header("Content-Length", str(len(payload)))
        req.send_header("Accept-Ranges", "bytes")
        if status == 206:
            req.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        req.end_headers()
        drop = self.drop_after.pop(path, None)
        sent = payload if drop is None else payload[:drop]
        self.hits.append(Hit(path, range_header, status, len(sent)))  # before the client can finish
        req.wfile.write(sent)
        req.wfile.flush()
        if drop is not None:  # cut the connection with the body unfinished
            req.close_connection = True
            req.connection.shutdown(socket.SHUT_RDWR)
