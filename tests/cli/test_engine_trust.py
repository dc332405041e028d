"""The client never writes where an engine says: a hostile engine (a real HTTP server on 127.0.0.1 that
answers a re-render with an ``output_name`` climbing out of the folder, or absolute) cannot make
`layer rerender --engine URL` write anywhere but ``-o`` or a sanitised name inside the current folder."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from layer_desktop.cli import main
from layer_desktop.engine.download_name import safe_file_name

PAYLOAD = b"\x00\x00\x00\x18ftypmp42 the engine's video bytes"
REPORT = {
    "job_id": "j1", "job_dir": "/srv/engine/jobs/j1", "output": "/etc/passwd", "frames": 2, "swapped": 2,
    "flagged": {}, "encoder": "libx264", "fallback_reason": None, "chunks_encoded": 1, "chunks_reused": 0,
    "analysis_seconds": 0.1, "render_seconds": 0.1,
}  # fmt: skip


def job_info(state: str, output_name: str) -> dict[str, Any]:
    return {
        "job_id": "j1", "state": state, "kind": "rerender", "created": 1.0, "updated": 2.0,
        "output_name": output_name, "report": REPORT if state == "done" else None,
    }  # fmt: skip


class HostileEngine(ThreadingHTTPServer):
    output_name = ""


class Handler(BaseHTTPRequestHandler):
    server: HostileEngine

    def _send(self, status: int, body: bytes, kind: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self._send(202, json.dumps(job_info("queued", self.server.output_name)).encode())

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        if path.endswith("/events"):
            self._send(200, b"", "text/event-stream")  # the job is over: no more events
        elif path.endswith("/result"):
            self._send(200, PAYLOAD, "video/mp4")
        else:
            self._send(200, json.dumps(job_info("done", self.server.output_name)).encode())

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def hostile() -> Iterator[HostileEngine]:
    server = HostileEngine(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, name="hostile-engine")
    thread.start()
    yield server
    server.shutdown()
    thread.join()
    server.server_close()


def files_with_payload(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and p.read_bytes() == PAYLOAD)


EVIL = ["../../x", "../../x.mp4", "/ABS/evil.mp4", "..", "", "a/../../../b.mp4", "..\\..\\win.mp4", ".bashrc"]


@pytest.mark.parametrize("name", EVIL)
def test_a_hostile_output_name_lands_inside_the_chosen_folder(
    name: str, hostile: HostileEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    here = tmp_path / "a" / "b" / "here"
    here.mkdir(parents=True)
    (tmp_path / "ABS").mkdir()
    hostile.output_name = name.replace("/ABS", str(tmp_path / "ABS"))
    monkeypatch.chdir(here)
    monkeypatch.setenv("LAYER_ENGINE_TOKEN", "t" * 32)
    url = f"http://127.0.0.1:{hostile.server_address[1]}"
    code = main(["rerender", "j1", "--frames", "0-1", "--engine", url])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    written = files_with_payload(tmp_path)
    assert len(written) == 1 and written[0].parent == here
    assert not written[0].name.startswith(".") and written[0].suffix == ".mp4"
    assert written[0].name in "".join(captured.out.split())  # rich wraps anywhere


def test_with_dash_o_the_result_goes_exactly_there(
    hostile: HostileEngine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    hostile.output_name = str(tmp_path / "evil.mp4")
    monkeypatch.setenv("LAYER_ENGINE_TOKEN", "t" * 32)
    target = tmp_path / "mine" / "result.mp4"
    target.parent.mkdir()
    url = f"http://127.0.0.1:{hostile.server_address[1]}"
    assert main(["rerender", "j1", "--frames", "0-1", "--engine", url, "-o", str(target)]) == 0
    assert files_with_payload(tmp_path) == [target]
    capsys.readouterr()


@pytest.mark.parametrize(
    ("suggested", "expected"),
    [
        ("out.mp4", "out.mp4"),
        ("../../x", "x.mp4"),
        ("/etc/cron.d/evil.mov", "evil.mov"),
        ("C:\\Windows\\a.mkv", "a.mkv"),
        ("..", "fallback.mp4"),
        ("", "fallback.mp4"),
        ("na\x00me;rm -rf.mp4", "na_me_rm -rf.mp4"),
        ("x" * 500 + ".mp4", "x" * 116 + ".mp4"),
        ("video.exe", "video.exe.mp4"),
    ],
)
def test_safe_file_name(suggested: str, expected: str) -> None:
    assert safe_file_name(suggested, "fallback.mp4") == expected
