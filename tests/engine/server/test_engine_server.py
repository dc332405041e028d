"""The real engine server process: loopback only, token required, state and token files owner-only."""

from __future__ import annotations

import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.engine.server.conftest import TOKEN, EngineProcess


def test_engine_requires_token_and_binds_loopback(engine_process: EngineProcess) -> None:
    engine = engine_process.start()
    state = engine.home.read_state()
    assert state is not None and state["host"] == "127.0.0.1" and state["pid"] == engine.proc.pid  # type: ignore[union-attr]
    for f in (engine.home.state_file, engine.home.token_file):
        assert stat.S_IMODE(f.stat().st_mode) == 0o600
    assert engine.home.read_token() == TOKEN
    url = f"{engine.endpoint().url}/v1/health"
    assert httpx.get(url, timeout=10).status_code == 401
    wrong = {"Authorization": "Bearer wrong-token-xxxxxxxx"}
    assert httpx.get(url, headers=wrong, timeout=10).status_code == 401
    ok = httpx.get(url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
    assert ok.status_code == 200 and ok.json()["status"] == "ok"
    caps = httpx.get(f"{engine.endpoint().url}/v1/capabilities", headers={"Authorization": f"Bearer {TOKEN}"})
    body = caps.json()
    assert "CPUExecutionProvider" in body["providers_active"] and body["encoder"] in {"libx264", "h264_nvenc"}
    assert "landmark" in body["backends"]["swap"]
    cmdline = Path(f"/proc/{engine.proc.pid}/cmdline").read_bytes()  # type: ignore[union-attr]
    assert TOKEN.encode() not in cmdline  # the secret is never in argv
    assert (engine.home.log_file).is_file()
    engine.stop()
    assert not engine.home.state_file.exists() and not engine.home.token_file.exists()


def test_engine_refuses_a_public_address_unless_asked(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "layer_desktop.engine.server", "serve", "--home", str(tmp_path), "--host",
         "0.0.0.0"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert run.returncode != 0 and "refusing to bind 0.0.0.0" in run.stderr


def test_a_second_engine_on_the_same_home_is_refused(engine_process: EngineProcess) -> None:
    engine = engine_process.start()
    run = subprocess.run(
        [sys.executable, "-m", "layer_desktop.engine.server", "serve", "--home", str(engine.home.root)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert run.returncode != 0 and f"another engine (pid {engine.proc.pid})" in run.stderr  # type: ignore[union-attr]
    assert engine.home.read_state()["pid"] == engine.proc.pid  # type: ignore[index,union-attr]


PARENT = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-m", "layer_desktop.engine.server", "serve", "--home", sys.argv[1],
                          "--parent-pid", str(__import__("os").getpid())], start_new_session=True)
print(child.pid, flush=True)
time.sleep(float(sys.argv[2]))
"""


def test_an_engine_stops_when_the_app_that_started_it_is_gone(tmp_path: Path) -> None:
    home = tmp_path / "engine"
    parent = subprocess.run(
        [sys.executable, "-c", PARENT, str(home), "4"], capture_output=True, text=True, timeout=60
    )  # the "app" lives 4 s, then exits without stopping its engine
    pid = int(parent.stdout.split()[0])
    deadline = time.monotonic() + 30
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]
    assert not (home / "state.json").exists()  # it stopped cleanly
