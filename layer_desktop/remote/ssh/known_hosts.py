"""Trust on first use, in the app's own known_hosts (0600): ``<host id> <key type> <base64 key>`` a line.

An unknown key is only trusted after the user compared its ``SHA256:`` fingerprint (the same text as
``ssh-keygen -lf``) and said yes; a key that differs from the trusted one is a hard stop, before any
authentication is sent. Nothing is ever added silently (paramiko's ``AutoAddPolicy`` is never used).
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import paramiko

from layer_desktop.errors import HostKeyChangedError
from layer_desktop.paths import app_paths
from layer_desktop.settings import write_atomic


def fingerprint(key: paramiko.PKey) -> str:
    """``SHA256:<unpadded base64>`` of the key blob, exactly as OpenSSH prints it."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


@dataclass(frozen=True)
class KnownKey:
    host_id: str
    key_type: str
    blob: str  # base64

    @property
    def fingerprint(self) -> str:
        digest = hashlib.sha256(base64.b64decode(self.blob)).digest()
        return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def known_hosts_file() -> Path:
    return app_paths().config_dir / "known_hosts"


class KnownHosts:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or known_hosts_file()

    def entries(self) -> list[KnownKey]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        found = []
        for line in text.splitlines():
            parts = line.split()
            if len(parts) >= 3 and not line.startswith("#"):
                found.append(KnownKey(parts[0], parts[1], parts[2]))
        return found

    def get(self, host_id: str) -> KnownKey | None:
        return next((e for e in self.entries() if e.host_id == host_id), None)

    def check(self, host_id: str, key: paramiko.PKey) -> bool:
        """True when ``key`` is the trusted key of ``host_id``, False when none is trusted yet.
        Raises ``HostKeyChangedError`` (naming both fingerprints) when another key is trusted."""
        known = self.get(host_id)
        if known is None:
            return False
        if known.key_type == key.get_name() and known.blob == key.get_base64():
            return True
        raise HostKeyChangedError(
            f"The host key of {host_id} has CHANGED: trusted {known.fingerprint} ({known.key_type}), "
            f"offered {fingerprint(key)} ({key.get_name()}). Nothing was sent to the server."
        )

    def trust(self, host_id: str, key: paramiko.PKey) -> None:
        kept = [e for e in self.entries() if e.host_id != host_id]
        kept.append(KnownKey(host_id, key.get_name(), key.get_base64()))
        self._write(kept)

    def forget(self, host_id: str) -> bool:
        entries = self.entries()
        kept = [e for e in entries if e.host_id != host_id]
        self._write(kept)
        return len(kept) != len(entries)

    def _write(self, entries: list[KnownKey]) -> None:
        text = "".join(f"{e.host_id} {e.key_type} {e.blob}\n" for e in entries)
        write_atomic(self.path, text.encode())  # mkstemp: 0600
        os.chmod(self.path, 0o600)
