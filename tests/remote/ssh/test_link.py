"""The link to the host failing under a running job: frozen (a proxy that stops forwarding without
closing), dropped for 30 s, the connection's sshd process killed mid-upload; and no secret in any argv,
log or file on either side."""

from __future__ import annotations

import hashlib
import itertools
import os
import queue
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from layer_desktop.engine.client import EngineClient
from layer_desktop.engine.server.schemas import JobEvent
from layer_desktop.remote.ssh.bootstrap import Bootstrap
from layer_desktop.remote.ssh.commands import EnginePlan
from layer_desktop.remote.ssh.connection import SshConnection
from layer_desktop.remote.ssh.hosts import HostProfile
from layer_desktop.remote.ssh.session import LinkOptions, RemoteEngine, RemoteStatus
from tests.remote.ssh.conftest import Sshd, SshWorld
from tests.remote.ssh.helpers import demo_spec, demo_store, fast_bootstrap
from tests.remote.ssh.proxy import Proxy

pytestmark = [pytest.mark.sshd, pytest.mark.slow]


class Statuses:
    def __init__(self) -> None:
        self.seen: queue.Queue[tuple[float, RemoteStatus]] = queue.Queue()

    def __call__(self, status: RemoteStatus) -> None:
        self.seen.put((time.monotonic(), status))

    def wait_for(self, state: str, timeout: float) -> tuple[float, RemoteStatus]:
        deadline = time.monotonic() + timeout
        while True:
            at, status = self.seen.get(timeout=max(0.01, deadline - time.monotonic()))
            if status.state == state:
                return at, status


def bootstrapped(world: SshWorld) -> tuple[Sshd, HostProfile]:
    server = world.sshd()
    profile = world.profile(server)
    with SshConnection(profile, world.known_hosts, accept_fingerprint=world.host_fingerprint).open() as conn:
        Bootstrap(conn, EnginePlan(profile.work_dir), fast_bootstrap()).run()
    return server, profile


def collect(client: EngineClient, job_id: str, into: list[JobEvent]) -> threading.Thread:
    t = threading.Thread(target=lambda: into.extend(client.events(job_id)), daemon=True)
    t.start()
    return t


def test_a_frozen_link_is_detected_and_the_job_reattached_without_gaps(
    ssh_world: SshWorld, tmp_path: Path
) -> None:
    server, direct = bootstrapped(ssh_world)
    proxy = Proxy(server.port)
    profile = direct.model_copy(update={"port": proxy.port})
    statuses = Statuses()
    remote = RemoteEngine(
        profile, known_hosts=ssh_world.known_hosts, accept_fingerprint=ssh_world.host_fingerprint,
        on_status=statuses, options=LinkOptions(probe_interval=0.5),
    )  # fmt: skip
    try:
        remote.connect()
        with remote.client(retries=40) as client:
            job = client.submit_transform(demo_spec(tmp_path / "out.mp4", chunk=10), demo_store())
            events: list[JobEvent] = []
            follower = collect(client, job.job_id, events)
            while not any(e.type == "progress" for e in events):
                time.sleep(0.05)
            frozen_at = time.monotonic()
            proxy.freeze()
            noticed_at, why = statuses.wait_for("reconnecting", timeout=30)
            assert noticed_at - frozen_at < 10 and "keepalive" in (why.reason or "")
            proxy.unfreeze()
            statuses.wait_for("connected", timeout=60)
            follower.join(300)
            info = client.job(job.job_id)
            result = client.download(job.job_id, tmp_path / "out.mp4")
    finally:
        remote.disconnect()
        proxy.close()
    assert not follower.is_alive() and info.state == "done"
    assert [e.id for e in events] == list(range(1, len(events) + 1))  # no gap, no duplicate
    assert events[-1].type == "state" and events[-1].data["state"] == "done"
    assert result.stat().st_size > 0


def test_a_client_away_for_30_s_finds_the_job_finished_and_fetches_it(
    ssh_world: SshWorld, tmp_path: Path
) -> None:
    _, profile = bootstrapped(ssh_world)
    with RemoteEngine(profile, known_hosts=ssh_world.known_hosts) as remote, remote.client() as client:
        job = client.submit_transform(demo_spec(tmp_path / "out.mp4"), demo_store())
        pid = remote.runtime.pid  # type: ignore[union-attr]
    time.sleep(30)  # the laptop sleeps; the job goes on
    with RemoteEngine(profile, known_hosts=ssh_world.known_hosts) as remote, remote.client() as client:
        assert remote.runtime is not None and remote.runtime.pid == pid and not remote.runtime.started
        info = client.wait(job.job_id)
        result = client.download(job.job_id, tmp_path / "out.mp4")
    assert info.state == "done" and info.report is not None and info.report["frames"] == 100
    assert result.stat().st_size > 0


def test_killed_sshd_mid_upload_resumes_and_no_secret_leaks(ssh_world: SshWorld, tmp_path: Path) -> None:
    server, profile = bootstrapped(ssh_world)
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(24 * 1024**2))
    sha = hashlib.sha256(big.read_bytes()).hexdigest()
    part = Path(profile.work_dir) / "engine" / "uploads" / f"{sha}.part"
    sent: list[int] = []
    killed_at: list[int] = []
    with RemoteEngine(profile, known_hosts=ssh_world.known_hosts) as remote, remote.client() as client:
        token = remote.endpoint().token
        killed = threading.Event()

        def progress(done: int, total: int) -> None:
            sent.append(done)
            if done >= 8 * 1024**2 and not killed.is_set():
                killed.set()
                killed_at.append(done)
                # the stream pauses here; once the bytes on the wire reached the engine, cut the link:
                # what the engine received must not be sent again
                deadline = time.monotonic() + 20
                while (part.stat().st_size if part.exists() else 0) < done and time.monotonic() < deadline:
                    time.sleep(0.05)
                for child in server.children():  # the connection's own sshd process
                    os.kill(child, signal.SIGKILL)

        info = client.upload(big, progress)
    assert killed.is_set() and info.media_id == sha and info.size == big.stat().st_size
    stored = [p for p in (Path(profile.work_dir) / "engine" / "media").rglob("*") if p.is_file()]
    assert [hashlib.sha256(p.read_bytes()).hexdigest() for p in stored] == [sha]  # what arrived is intact
    # the offsets the client sent, piece by piece, and the engine's offset it resumed from: pieces
    # written after the link died never arrived; of what reached the engine, at most 1 MiB is sent again
    steps = [b - a for a, b in zip([0, *sent], sent, strict=False)]
    assert max(steps) <= 1024**2 and sent[-1] == big.stat().st_size
    resumed = [b for a, b in itertools.pairwise(sent) if b <= a]
    assert len(resumed) == 1, sent  # the link broke once and the upload resumed once
    assert killed_at[0] - resumed[0] < 1024**2, f"resumed at {resumed[0]} after {killed_at[0]} arrived"
    assert_no_secret(ssh_world, profile, token)


def assert_no_secret(world: SshWorld, profile: HostProfile, token: str) -> None:
    key = Path(profile.key_file or "").read_text()
    secrets = {"token": token.encode(), "key": key.split("\n")[1].encode()}
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, check=True).stdout
    files = [p for p in Path(profile.work_dir).rglob("*") if p.is_file() and p.name != "token"]
    files += [s.log for s in world.servers]
    for name, secret in secrets.items():
        assert secret not in ps, f"{name} in a command line"
        for path in files:
            if path.suffix not in (".so", ".whl"):
                assert secret not in path.read_bytes(), f"{name} in {path}"
    token_file = Path(profile.work_dir) / "engine" / "token"
    assert oct(token_file.stat().st_mode & 0o777) == "0o600"
