"""The whole path against a real sshd: add the host (its unknown key shown with ssh-keygen's fingerprint),
doctor, bootstrap into a fresh dir, the engine started detached, the tunnel, the demo transform through
it, and the result equal to a local run (frame by frame, and the sha256 of its encoded streams)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pytest

from layer_desktop.engine.pipeline import Disclosure, run_transform
from layer_desktop.remote.ssh.bootstrap import Bootstrap
from layer_desktop.remote.ssh.commands import EnginePlan
from layer_desktop.remote.ssh.connection import SshConnection
from layer_desktop.remote.ssh.doctor import run_doctor
from layer_desktop.remote.ssh.session import RemoteEngine
from tests.clips import decode
from tests.remote.ssh.conftest import SshWorld
from tests.remote.ssh.helpers import demo_spec, demo_store, fast_bootstrap, streams_sha256

pytestmark = [pytest.mark.sshd, pytest.mark.slow]


def test_add_doctor_bootstrap_connect_and_render_the_demo(ssh_world: SshWorld, tmp_path: Path) -> None:
    server = ssh_world.sshd()
    profile = ssh_world.profile(server)
    shown: list[tuple[str, str, str]] = []

    def accept(host_id: str, fp: str, kind: str) -> bool:
        shown.append((host_id, fp, kind))
        return True

    with SshConnection(profile, ssh_world.known_hosts, accept=accept).open() as conn:
        assert shown == [(f"[127.0.0.1]:{server.port}", ssh_world.host_fingerprint, "ssh-ed25519")]
        assert stat.S_IMODE(ssh_world.known_hosts.path.stat().st_mode) == 0o600
        checks = {c.name: c for c in run_doctor(conn, profile.work_dir)}
        steps = Bootstrap(conn, EnginePlan(profile.work_dir), fast_bootstrap()).run()
        again = Bootstrap(conn, EnginePlan(profile.work_dir), fast_bootstrap()).run()

    assert {c.level for c in checks.values()} == {"ok"}, checks
    assert "NVIDIA H100 80GB HBM3 (81559 MiB, 1234 MiB used, 7% busy" in checks["gpu"].detail
    assert "NVIDIA A10G (23028 MiB, driver 550.54.15)" in checks["gpu"].detail  # [N/A] fields left out
    assert checks["cuda"].detail.startswith("CUDA 12.4") and checks["python"].detail.startswith("Python 3.")
    assert dict(steps)["venv"] == "done" and dict(steps)["engine package"] == "done"
    assert [state for _, state in again] == ["skipped"] * 5  # idempotent: nothing twice

    store = demo_store()
    # the key is trusted now: no prompt, no fingerprint to pass
    with RemoteEngine(profile, known_hosts=ssh_world.known_hosts) as remote, remote.client() as client:
        rt = remote.runtime
        assert rt is not None and rt.started
        assert os.getsid(rt.pid) == rt.pid  # detached: its own session, not the SSH session's
        assert remote.status.state == "connected" and remote.endpoint().url.startswith("http://127.0.0.1:")
        assert client.health()["status"] == "ok"
        # compared byte for byte with a local job below: no invisible watermark (its payload is each job's)
        spec = demo_spec(tmp_path / "remote.mp4").model_copy(
            update={"disclosure": Disclosure(watermark=False)}
        )
        job = client.submit_transform(spec, store)
        info = client.wait(job.job_id)
        result = client.download(job.job_id, tmp_path / "remote.mp4")
    assert info.state == "done" and info.report is not None and info.report["frames"] == 100
    # the same pictures as a local render of the same spec
    local = run_transform(spec.model_copy(update={"output": str(tmp_path / "local.mp4")}), store=store)
    ours, theirs = decode(result), decode(Path(local.output))
    assert len(ours) == len(theirs) == 100
    assert all(np.array_equal(a, b) for a, b in zip(ours, theirs, strict=True))
    # byte for byte: the same encoded streams (the files differ only by their per-job C2PA manifest)
    assert spec.disclosure.watermark is False  # the per-job invisible mark would differ too
    assert streams_sha256(result) == streams_sha256(Path(local.output))
    # the engine keeps running on the host after the app disconnected
    os.kill(rt.pid, 0)
