"""`layer demo --engine cluster:…`: the demo transform on a real local Ray cluster through the CLI."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from layer_desktop.cli import main
from layer_desktop.engine.cluster.local import node_processes
from tests.clips import decode
from tests.conftest import require_component


@pytest.mark.slow
def test_the_demo_runs_on_a_cluster_from_the_command_line(
    ray_cluster: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "demo.mp4"
    assert main(["demo", "-o", str(target), "--engine", "cluster:local"]) == 0
    printed = capsys.readouterr().out
    assert "100 of 100 frames swapped" in printed
    assert re.search(r"chunks: 0 encoded, [1-9]\d* reused", printed), printed  # the workers encoded them
    assert len(decode(target)) == 100


def _layer(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """The `layer` command in its own process (a cluster's token must reach the next command through
    the keyring, as for a user)."""
    done = subprocess.run(
        [sys.executable, "-c", "import sys; from layer_desktop.cli import main; sys.exit(main())", *args],
        env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    if check:
        assert done.returncode == 0, done.stdout + done.stderr
    return done


def _layer_input(env: dict[str, str], stdin: str, *args: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import sys; from layer_desktop.cli import main; sys.exit(main())", *args],
        env=env, input=stdin, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def _listeners(port: int) -> list[str]:
    """The addresses (hex, as /proc/net/tcp and tcp6 write them) listening on ``port``."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                found.append(local.rsplit(":", 1)[0])
    return found


def _listening(port: int) -> bool:
    return bool(_listeners(port))


def _listens_on_loopback_only(port: int) -> bool:
    """Every listening socket on ``port`` is bound to 127.0.0.1."""
    found = _listeners(port)
    return bool(found) and all(addr == "0100007F" for addr in found)


def _in_argv(secret: str) -> list[int]:
    hits = []
    for proc in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            if secret.encode() in (proc / "cmdline").read_bytes():
                hits.append(int(proc.name))
    return hits


@pytest.mark.slow
def test_a_named_cluster_on_this_machine_up_status_render_down(tmp_path: Path) -> None:
    require_component(
        "Ray", importlib.util.find_spec("ray") is not None, "pip install layer-desktop[cluster]"
    )
    home = tmp_path / "user"
    env = {
        **os.environ, "HOME": str(home), "LAYER_HOME": str(tmp_path / "layer"),
        "XDG_DATA_HOME": str(tmp_path / "xdg"),  # where the test's file keyring keeps the token
        "PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring",
    }  # fmt: skip
    for key in ("RAY_AUTH_TOKEN", "RAY_AUTH_MODE", "RAY_ADDRESS"):
        env.pop(key, None)
    up = _layer(env, "cluster", "up", "c1", "--num-cpus", "2", "--num-gpus", "2", "--object-store-mb", "100")
    assert "cluster c1 up at 127.0.0.1:" in up.stdout
    record = json.loads((tmp_path / "layer" / "data" / "clusters" / "c1.json").read_text())
    folder = record["nodes"][0]["folder"]
    try:
        token = (tmp_path / "xdg" / "python_keyring" / "keyring_pass.cfg").read_text()
        assert "cluster" in token  # the token went to the keyring …
        assert "token" not in json.dumps(record).lower()  # … not to the record
        assert not (home / ".ray" / "auth_token").exists()  # nor to Ray's default token file
        dash = record["dashboard_port"]
        deadline = time.monotonic() + 60  # the dashboard may still be starting when `ray start` returns
        while not _listening(dash) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _listens_on_loopback_only(dash)  # the dashboard and Jobs API: 127.0.0.1 only
        with pytest.raises(urllib.error.HTTPError) as refused:  # the Jobs API wants the token
            urllib.request.urlopen(f"http://127.0.0.1:{dash}/api/jobs/", timeout=30)
        assert refused.value.code in (401, 403)
        status = _layer(env, "cluster", "status", "c1").stdout
        assert "0.0/2.0 GPU" in status and "Active:" in status

        target = tmp_path / "demo.mp4"
        render = _layer(env, "demo", "-o", str(target), "--engine", "cluster:c1").stdout
        assert "100 of 100 frames swapped" in render
        assert re.search(r"chunks: 0 encoded, [1-9]\d* reused", render), render  # the workers made them
        assert len(decode(target)) == 100
        listed = _layer(env, "cluster", "list").stdout
        assert re.match(r"c1\s+local\s+127\.0\.0\.1:\d+\s+this machine", listed), listed

        # the same cluster as one the user runs: its address, and its token on stdin into the keyring
        read = "from layer_desktop.secrets import KeyringSecrets as K; print(K().get('cluster:c1'))"
        token = subprocess.run(
            [sys.executable, "-c", read], env=env, capture_output=True, text=True, check=True
        ).stdout.strip()
        _layer_input(
            env, token + "\n", "cluster", "add", "ext", "--address", record["address"], "--token-stdin"
        )
        assert "Active:" in _layer(env, "cluster", "status", "ext").stdout
        _layer_input(
            env, "not-the-token\n", "cluster", "add", "bad", "--address", record["address"], "--token-stdin"
        )
        refused = _layer(env, "cluster", "status", "bad", check=False)
        assert refused.returncode == 2 and "Could not reach the cluster 'bad'" in refused.stderr, refused
        assert re.search(r"ext\s+external\s+127\.0\.0\.1:\d+\s+-", _layer(env, "cluster", "list").stdout)
        assert "forgotten" in _layer(env, "cluster", "down", "ext").stdout
        assert "forgotten" in _layer(env, "cluster", "down", "bad").stdout
    finally:
        down = _layer(env, "cluster", "down", "c1", check=False)
    assert down.returncode == 0 and re.search(r"cluster c1 stopped \([1-9]\d* processes\)", down.stdout), down
    assert node_processes(folder) == 0  # every process of its session is gone
    assert not (tmp_path / "layer" / "data" / "clusters" / "c1.json").exists()
    again = _layer(env, "cluster", "down", "c1", check=False)
    assert again.returncode != 0 and "no cluster named 'c1'" in again.stdout + again.stderr
