"""Files to the host over SFTP, by sha256: a file whose remote copy has the same hash is not sent; a new
one goes to ``NAME.part`` and is renamed only after its remote hash matched."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from layer_desktop.engine.hashing import sha256_file
from layer_desktop.errors import RemoteCommandError
from layer_desktop.paths import app_paths, resources_dir
from layer_desktop.remote.ssh import commands
from layer_desktop.remote.ssh.commands import q
from layer_desktop.remote.ssh.connection import SshConnection

log = logging.getLogger(__name__)


def remote_hashes(conn: SshConnection, paths: Sequence[str]) -> dict[str, str]:
    """sha256 of each existing remote file (missing ones are left out)."""
    if not paths:
        return {}
    out = conn.run(f"sha256sum -- {commands.join(paths)} 2>/dev/null || true").out
    found = {}
    for line in out.splitlines():
        sha, _, name = line.partition("  ")
        if len(sha) == 64:
            found[name] = sha
    return found


def put_if_changed(conn: SshConnection, local: Path, remote: str, *, known_remote: str | None = None,
                   sha: str | None = None) -> bool:  # fmt: skip
    """Upload ``local`` to ``remote`` unless it is already there; True when sent."""
    sha = sha or sha256_file(local)
    there = known_remote if known_remote is not None else remote_hashes(conn, [remote]).get(remote)
    if there == sha:
        return False
    part = remote + ".part"
    conn.run(f"mkdir -p {q(remote.rsplit('/', 1)[0])}")
    conn.sftp().put(str(local), part)
    if remote_hashes(conn, [part]).get(part) != sha:
        raise RemoteCommandError(f"{local.name} arrived damaged on {conn.profile.name} (sha256 differs).")
    conn.run(f"mv -f {q(part)} {q(remote)}")
    log.info("uploaded %s to %s:%s", local.name, conn.profile.name, remote)
    return True


def local_models(given: Sequence[Path], package_dir: str, models_dir: str) -> list[tuple[Path, str, str]]:
    """(local file, remote path, sha256) of the models to mirror: the shipped ones into the remote
    package's ``resources/models``, the installed ones into the remote app's models folder."""
    pairs: list[tuple[Path, str]] = []
    if given:
        pairs = [(p, f"{models_dir}/{p.name}") for p in given]
    else:
        shipped = resources_dir() / "models"
        pairs += [
            (p, f"{package_dir}/resources/models/{p.name}") for p in sorted(shipped.glob("*")) if p.is_file()
        ]
        installed = app_paths().models_dir
        if installed.is_dir():
            pairs += [(p, f"{models_dir}/{p.name}") for p in sorted(installed.glob("*"))
                      if p.is_file() and not p.name.endswith(".part")]  # fmt: skip
    return [(p, target, sha256_file(p)) for p, target in pairs]
