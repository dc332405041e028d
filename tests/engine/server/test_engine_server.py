"""The real engine server process: loopback only, token required, ready file owner-only."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx

TOKEN = "test-token-0123456789abcdef"


def start_engine(tmp_path: Path) -> tuple[subprocess.Popen[bytes], dict[str, object], Path]:
    ready = tmp_path / "engine.json"
    env = dict(os.environ, LAYER_ENGINE_TOKEN=TOKEN)
    proc = subprocess.Popen(
        [sys.executable, "-c", "from layer_desktop.engine.server.cli import main; main()", "serve",
         "--ready-file", str(ready)],
        env=env,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not ready.exists():
        assert proc.poll() is None, "engine exited early"
        assert time.monotonic() < deadline, "engine did not become ready"
        time.sleep(0.05)
    return proc, json.loads(ready.read_text()), ready


def test_engine_requires_token_and_binds_loopback(tmp_path: Path) -> None:
    proc, info, ready = start_engine(tmp_path)
    try:
        assert info["host"] == "127.0.0.1" and info["token"] == TOKEN
        assert stat.S_IMODE(ready.stat().st_mode) == 0o600
        url = f"http://127.0.0.1:{info['port']}/v1/health"
        assert httpx.get(url, timeout=10).status_code == 401
        assert (
            httpx.get(url, headers={"Authorization": "Bearer wrong-token-xxxxxxxx"}, timeout=10).status_code
            == 401
        )
        ok = httpx.get(url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
        assert ok.status_code == 200
        body = ok.json()
        assert body["status"] == "ok" and "CPUExecutionProvider" in body["onnx_providers"]
        assert body["encoder"] in {"libx264", "h264_nvenc"}
        cmdline = Path(f"/proc/{proc.pid}/cmdline").read_bytes()
        assert TOKEN.encode() not in cmdline  # the secret is never in argv
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    assert not ready.exists()
