"""`layer hosts` against a real sshd: add (a wrong fingerprint refused, the right one trusted), list,
doctor, connect/disconnect the engine, forget-key, remove."""

from __future__ import annotations

import pytest

from layer_desktop.cli import main
from layer_desktop.remote.ssh.hosts import HostStore
from layer_desktop.remote.ssh.known_hosts import KnownHosts
from tests.remote.ssh.conftest import SshWorld
from tests.remote.ssh.conftest import ssh_world as ssh_world  # the fixture, shared

pytestmark = pytest.mark.sshd


def test_add_with_fingerprints_list_doctor_and_remove(
    ssh_world: SshWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    server = ssh_world.sshd()
    p = ssh_world.profile(server)
    base = ["hosts", "add", "box", "--host", p.host, "--port", str(p.port), "--user", p.user,
            "--key", str(p.key_file), "--work-dir", p.work_dir]  # fmt: skip
    wrong = "SHA256:" + "A" * 43
    assert main([*base, "--accept-fingerprint", wrong]) == 2
    err = capsys.readouterr().err
    assert "not trusted" in err and ssh_world.host_fingerprint in err and wrong in err
    assert KnownHosts().get(p.host_id) is None

    assert main([*base, "--accept-fingerprint", ssh_world.host_fingerprint]) == 0
    assert KnownHosts().get(p.host_id) is not None and HostStore().get("box").port == p.port
    assert main(["hosts", "list"]) == 0
    listed = capsys.readouterr().out.splitlines()[-1].split()
    assert listed == ["box", f"{p.user}@127.0.0.1:{p.port}", p.work_dir, ssh_world.host_fingerprint]

    assert main(["hosts", "doctor", "box"]) == 0
    report = capsys.readouterr().out
    assert "NVIDIA H100 80GB HBM3" in report and "TCP forwarding allowed" in report

    assert main(["hosts", "forget-key", "box"]) == 0 and KnownHosts().get(p.host_id) is None
    assert main(["hosts", "remove", "box"]) == 0
    assert HostStore().all() == []
    assert main(["hosts", "doctor", "box"]) == 2
    assert "No host named 'box'" in capsys.readouterr().err
