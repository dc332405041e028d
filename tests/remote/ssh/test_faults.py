"""Faults against real sshd servers: a changed host key, forwarding forbidden, a locked account, a stale
runtime file, the idle watchdog."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from layer_desktop.engine.server.home import EngineHome
from layer_desktop.engine.server.jobstore import JobStore
from layer_desktop.errors import (
    HostKeyChangedError,
    RemoteDiskFullError,
    SshAuthError,
    SshForwardingError,
)
from layer_desktop.remote.ssh.bootstrap import Bootstrap
from layer_desktop.remote.ssh.commands import EnginePlan
from layer_desktop.remote.ssh.connection import SshConnection
from layer_desktop.remote.ssh.engine_host import ensure_engine, probe, stopped_reason
from layer_desktop.remote.ssh.session import RemoteEngine
from tests.conftest import require_component
from tests.remote.ssh.conftest import SshWorld, keygen_fingerprint
from tests.remote.ssh.helpers import demo_spec, demo_store, fast_bootstrap

pytestmark = pytest.mark.sshd
LOCKED = "layer-locked-test"


def trusted(world: SshWorld, port: int | None = None) -> SshConnection:
    server = world.sshd(port)
    profile = world.profile(server)
    return SshConnection(profile, world.known_hosts, accept_fingerprint=world.host_fingerprint).open()


def bootstrapped(world: SshWorld) -> SshConnection:
    conn = trusted(world)
    Bootstrap(conn, EnginePlan(conn.profile.work_dir), fast_bootstrap()).run()
    return conn


def test_a_changed_host_key_is_a_hard_stop_before_any_login(ssh_world: SshWorld) -> None:
    first = trusted(ssh_world)
    port = first.profile.port
    first.close()
    ssh_world.servers[0].stop()
    impostor = ssh_world.sshd(port, host_key=ssh_world.other_host_key)
    with pytest.raises(HostKeyChangedError) as err:
        SshConnection(ssh_world.profile(impostor), ssh_world.known_hosts, accept=lambda *a: True).open()
    other = keygen_fingerprint(ssh_world.other_host_key.with_suffix(".pub"))
    assert ssh_world.host_fingerprint in err.value.message and other in err.value.message
    log = impostor.log.read_text()
    # the server saw the key exchange and nothing else: no public key was offered, no user named
    assert "Accepted publickey" not in log and "Failed publickey" not in log and "userauth" not in log.lower()
    assert ssh_world.known_hosts.get(first.profile.host_id).fingerprint == ssh_world.host_fingerprint  # type: ignore[union-attr]


def test_forwarding_forbidden_and_locked_account_are_distinct_clear_errors(ssh_world: SshWorld) -> None:
    server = ssh_world.sshd(AllowTcpForwarding="no")
    profile = ssh_world.profile(server, work_dir=str(ssh_world.root / "w"))
    conn = SshConnection(profile, ssh_world.known_hosts, accept_fingerprint=ssh_world.host_fingerprint).open()
    Bootstrap(conn, EnginePlan(profile.work_dir), fast_bootstrap()).run()
    conn.close()
    remote = RemoteEngine(profile, known_hosts=ssh_world.known_hosts)
    with pytest.raises(SshForwardingError) as forbidden:
        remote.connect()
    assert "does not allow TCP forwarding" in forbidden.value.message
    assert "AllowTcpForwarding yes" in forbidden.value.hint
    remote.disconnect()

    # a locked account (no usable password: "!" in shadow, as useradd leaves it) with our key
    if subprocess.run(["id", LOCKED], capture_output=True, check=False).returncode != 0:
        subprocess.run(["useradd", "-M", "-s", "/bin/bash", LOCKED], check=True)
    subprocess.run(["usermod", "-L", LOCKED], check=True)
    locked = ssh_world.sshd()
    with pytest.raises(SshAuthError) as refused:
        SshConnection(ssh_world.profile(locked, user=LOCKED), ssh_world.known_hosts,
                      accept_fingerprint=ssh_world.host_fingerprint).open()  # fmt: skip
    assert f"refused the key {profile.key_file} for the user '{LOCKED}'" in refused.value.message
    assert "locked" in refused.value.hint
    assert "account is locked" in locked.log.read_text()


def test_a_stale_runtime_file_gives_one_clean_restart_and_never_two_engines(ssh_world: SshWorld) -> None:
    conn = bootstrapped(ssh_world)
    plan = EnginePlan(conn.profile.work_dir)
    stale = json.dumps({"host": "127.0.0.1", "port": 1, "pid": 999999})
    conn.run(f"mkdir -p {plan.home} && echo '{stale}' > {plan.state_file}")
    assert probe(conn, plan)[0] == "dead"
    first = ensure_engine(conn, plan, idle_stop_s=0)
    again = ensure_engine(conn, plan, idle_stop_s=0)  # a second connect re-attaches
    assert first.started and not again.started and again.pid == first.pid != 999999
    assert ssh_world.engines() == [first.pid]
    conn.close()


def wait_engines_gone(world: SshWorld, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while world.engines() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert world.engines() == []


def test_idle_watchdog_stops_an_idle_engine_and_spares_a_busy_one(
    ssh_world: SshWorld, tmp_path: Path
) -> None:
    conn = bootstrapped(ssh_world)
    plan = EnginePlan(conn.profile.work_dir)
    ensure_engine(conn, plan, idle_stop_s=2)
    wait_engines_gone(ssh_world)
    assert "idle for 2 s" in (stopped_reason(conn, plan) or "")
    assert probe(conn, plan)[0] == "none"  # it cleaned up its runtime file

    # busy: a job that runs far longer than the idle limit, with no API call meanwhile (disconnected)
    profile = conn.profile.model_copy(update={"idle_stop_minutes": 2 / 60})
    conn.close()
    with RemoteEngine(profile, known_hosts=ssh_world.known_hosts) as remote, remote.client() as client:
        job = client.submit_transform(demo_spec(tmp_path / "out.mp4"), demo_store())
    wait_engines_gone(ssh_world)
    store = JobStore(EngineHome(Path(plan.home)).database)
    try:
        assert store.job(job.job_id).state == "done"  # the watchdog waited for the job to end
    finally:
        store.close()


def test_a_full_remote_disk_is_a_clear_error(ssh_world: SshWorld) -> None:
    server = ssh_world.sshd()
    work = ssh_world.root / "small-disk"
    work.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(work)], check=False)
    require_component("tmpfs mount", mounted.returncode == 0, "mounting a small tmpfs needs CAP_SYS_ADMIN")
    try:
        profile = ssh_world.profile(server, work_dir=str(work))
        with SshConnection(
            profile, ssh_world.known_hosts, accept_fingerprint=ssh_world.host_fingerprint
        ) as conn:
            conn.open()
            with pytest.raises(RemoteDiskFullError) as full:
                Bootstrap(conn, EnginePlan(str(work)), fast_bootstrap()).run()
            assert "MiB free in" in full.value.message and "needs at least 64 MiB" in full.value.message
            assert "Free space" in full.value.hint
            # a write that really hits the full disk says so too
            with pytest.raises(RemoteDiskFullError) as hit:
                conn.run(f"head -c 20000000 /dev/zero > {work}/filler")
            assert "No space left on device" in hit.value.message
    finally:
        subprocess.run(["umount", str(work)], check=False)
