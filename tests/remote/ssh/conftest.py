"""A real OpenSSH server on 127.0.0.1 for the SSH host tests: generated host and user keys, a config that
works as root in a container (no PAM, no strict modes), the user's HOME pointed at a test folder (through
an ``environment=`` option in authorized_keys) whose ``.bash_profile`` prints MOTD noise and puts a fake
``nvidia-smi`` first on PATH, as a rented GPU box's login shell would."""

from __future__ import annotations

import contextlib
import getpass
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from layer_desktop.remote.ssh.hosts import HostProfile
from layer_desktop.remote.ssh.known_hosts import KnownHosts
from tests.conftest import require_component

SSHD = Path("/usr/sbin/sshd")
SSH_KEYGEN = shutil.which("ssh-keygen") or "/usr/bin/ssh-keygen"
NVIDIA_SMI = """#!/bin/sh
# a fake nvidia-smi: one real-looking GPU line, one with [N/A] fields (MIG / vGPU boxes print those)
case "$*" in
  *--query-gpu*) echo "NVIDIA H100 80GB HBM3, 81559, 1234, 7, 550.54.15"
                 echo "NVIDIA A10G, 23028, [N/A], [N/A], 550.54.15" ;;
  *) echo "| NVIDIA-SMI 550.54.15    Driver Version: 550.54.15    CUDA Version: 12.4 |" ;;
esac
"""
PROFILE = """echo "Welcome to your rented GPU box! (MOTD noise)"
echo "Have fun" >&2
export PATH="{bin}:$PATH"
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def keygen(path: Path, kind: str = "ed25519", passphrase: str = "") -> Path:
    subprocess.run(
        [SSH_KEYGEN, "-q", "-t", kind, "-N", passphrase, "-f", str(path), "-C", "test"], check=True
    )
    return path


def keygen_fingerprint(pub: Path) -> str:
    """``ssh-keygen -lf``'s fingerprint of a public key file."""
    out = subprocess.run([SSH_KEYGEN, "-lf", str(pub)], check=True, capture_output=True, text=True).stdout
    return out.split()[1]


class Sshd:
    """One ``sshd -D`` on 127.0.0.1:port."""

    def __init__(
        self, root: Path, host_key: Path, user_key: Path, home: Path, port: int | None = None
    ) -> None:
        self.root, self.host_key, self.user_key, self.home = root, host_key, user_key, home
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = root / f"sshd-{self.port}-{host_key.name}.log"

    def write_config(self, **options: str) -> Path:
        pub = self.user_key.with_suffix(".pub").read_text().strip()
        auth = self.root / "authorized_keys"
        auth.write_text(f'environment="HOME={self.home}" {pub}\n')
        auth.chmod(0o600)
        settings = {
            "Port": str(self.port), "ListenAddress": "127.0.0.1", "HostKey": str(self.host_key),
            "PidFile": str(self.root / f"sshd-{self.port}.pid"), "AuthorizedKeysFile": str(auth),
            "PasswordAuthentication": "no", "KbdInteractiveAuthentication": "no",
            "PubkeyAuthentication": "yes", "UsePAM": "no", "StrictModes": "no", "PermitRootLogin": "yes",
            "PermitUserEnvironment": "yes", "AllowTcpForwarding": "yes", "Subsystem": "sftp internal-sftp",
            "LogLevel": "VERBOSE", "MaxStartups": "50",
        } | options  # fmt: skip
        config = self.root / f"sshd_config-{self.port}"
        config.write_text("".join(f"{k} {v}\n" for k, v in settings.items()))
        return config

    def start(self, **options: str) -> Sshd:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # privilege separation dir
        config = self.write_config(**options)
        self.proc = subprocess.Popen(
            [str(SSHD), "-D", "-e", "-f", str(config)], stdout=self.log.open("ab"), stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 15
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 0.2):
                return self
            assert self.proc.poll() is None, f"sshd exited: {self.log.read_text()}"
            assert time.monotonic() < deadline, "sshd did not listen"
            time.sleep(0.05)

    def children(self) -> list[int]:
        """The per-connection sshd processes (the master's children)."""
        assert self.proc is not None
        path = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        return [int(p) for p in path.read_text().split()] if path.exists() else []

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            for child in self.children():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(child, signal.SIGTERM)
            self.proc.terminate()
            self.proc.wait(10)


class SshWorld:
    """Keys, the fake home and a profile for the fixture's server."""

    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.root = root
        self.host_key = keygen(root / "host_ed25519")
        self.other_host_key = keygen(root / "other_host_ed25519")
        self.user_key = keygen(root / "user_ed25519")
        self.home = root / "home"
        (self.home / "bin").mkdir(parents=True)
        smi = self.home / "bin" / "nvidia-smi"
        smi.write_text(NVIDIA_SMI)
        smi.chmod(0o755)
        (self.home / ".bash_profile").write_text(PROFILE.format(bin=self.home / "bin"))
        self.known_hosts = KnownHosts(root / "known_hosts")
        self.servers: list[Sshd] = []

    def sshd(self, port: int | None = None, host_key: Path | None = None, **options: str) -> Sshd:
        server = Sshd(self.root, host_key or self.host_key, self.user_key, self.home, port).start(**options)
        self.servers.append(server)
        return server

    def profile(self, server: Sshd, name: str = "box", **kw: object) -> HostProfile:
        fields: dict[str, object] = {
            "name": name, "host": "127.0.0.1", "port": server.port, "user": getpass.getuser(),
            "key_file": str(self.user_key), "work_dir": str(self.root / "remote-work"),
        } | kw  # fmt: skip
        return HostProfile.model_validate(fields)

    @property
    def host_fingerprint(self) -> str:
        return keygen_fingerprint(self.host_key.with_suffix(".pub"))

    def engines(self) -> list[int]:
        """Pids of engine processes serving a home below this world (started over SSH, detached)."""
        found = []
        for proc in Path("/proc").iterdir():
            with contextlib.suppress(OSError):
                cmd = (proc / "cmdline").read_bytes().split(b"\0")
                if b"layer_desktop.engine.server" in cmd and any(str(self.root).encode() in a for a in cmd):
                    found.append(int(proc.name))
        return found

    def close(self) -> None:
        for server in self.servers:
            server.stop()
        for pid in self.engines():  # detached on purpose; a test must not leave them behind
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


@pytest.fixture
def ssh_world(tmp_path: Path) -> Iterator[SshWorld]:
    require_component(
        "sshd", SSHD.is_file() and os.access(SSHD, os.X_OK), f"{SSHD} (apt-get install openssh-server)"
    )
    require_component("root", os.geteuid() == 0, "sshd must run as root to log users in")
    world = SshWorld(tmp_path / "ssh")
    yield world
    world.close()
