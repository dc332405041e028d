"""One SSH connection to a host (a paramiko ``Transport``): host key checked before anything is sent,
public-key login, commands under ``bash -lc``, SFTP. The tunnel and the liveness probe use the same
transport, so a host costs one TCP connection and one login."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import paramiko

from layer_desktop.errors import (
    HostKeyUnknownError,
    LayerError,
    RemoteCommandError,
    RemoteDiskFullError,
    SshAuthError,
    SshError,
)
from layer_desktop.remote.ssh import commands
from layer_desktop.remote.ssh.hosts import HostProfile
from layer_desktop.remote.ssh.known_hosts import KnownHosts, fingerprint
from layer_desktop.secrets import KeyringSecrets

log = logging.getLogger(__name__)

# asked when the host key is unknown: (host id, fingerprint, key type) -> trust it?
AcceptKey = Callable[[str, str, str], bool]
_DISK_FULL = ("No space left on device", "Disk quota exceeded")


class SecretSource:
    """Where the key passphrase comes from (the keyring); a protocol for tests."""

    def get(self, name: str) -> str | None:  # pragma: no cover - interface
        raise NotImplementedError


class SshConnection:
    def __init__(
        self,
        profile: HostProfile,
        known_hosts: KnownHosts | None = None,
        *,
        accept: AcceptKey | None = None,
        accept_fingerprint: str | None = None,
        secrets: SecretSource | KeyringSecrets | None = None,
        timeout: float = 15.0,
    ) -> None:
        self.profile = profile
        self.known_hosts = known_hosts or KnownHosts()
        self._accept, self._accept_fp = accept, accept_fingerprint
        self._secrets = secrets
        self.timeout = timeout
        self._transport: paramiko.Transport | None = None
        self._sftp: paramiko.SFTPClient | None = None
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ connect

    @property
    def transport(self) -> paramiko.Transport:
        t = self._transport
        if t is None or not t.is_active():
            raise SshError(f"Not connected to {self.profile.name}.")
        return t

    @property
    def connected(self) -> bool:
        return self._transport is not None and self._transport.is_active()

    def open(self) -> SshConnection:
        """Connect, check the host key (raises ``HostKeyUnknownError``/``HostKeyChangedError`` before any
        authentication is sent) and log in with the profile's key (raises ``SshAuthError``)."""
        p = self.profile
        try:
            sock = socket.create_connection((p.host, p.port), timeout=self.timeout)
        except OSError as exc:
            raise SshError(f"Cannot reach {p.host}:{p.port}: {exc}.") from exc
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        transport = paramiko.Transport(sock)
        transport.banner_timeout = transport.handshake_timeout = self.timeout
        try:
            transport.start_client(timeout=self.timeout)
            self._verify(transport)
            self._login(transport)
        except paramiko.SSHException as exc:
            transport.close()
            raise SshError(f"The SSH handshake with {p.host}:{p.port} failed: {exc}.") from exc
        except BaseException:
            transport.close()
            raise
        transport.set_keepalive(0)  # liveness is our own probe (paramiko's never notices a dead link)
        self._transport = transport
        log.info("connected to %s (%s@%s:%d)", p.name, p.user, p.host, p.port)
        return self

    def _verify(self, transport: paramiko.Transport) -> None:
        key = transport.get_remote_server_key()
        host_id = self.profile.host_id
        if self.known_hosts.check(host_id, key):
            return
        fp = fingerprint(key)
        ok = (
            (self._accept_fp == fp)
            if self._accept_fp
            else bool(self._accept and self._accept(host_id, fp, key.get_name()))
        )
        if not ok:
            offered = f" (you accepted {self._accept_fp})" if self._accept_fp else ""
            raise HostKeyUnknownError(
                f"The host key of {host_id} is not trusted yet: {key.get_name()} {fp}{offered}. "
                "Nothing was sent to the server."
            )
        self.known_hosts.trust(host_id, key)
        log.info("trusted the host key of %s: %s", host_id, fp)

    def _login(self, transport: paramiko.Transport) -> None:
        p = self.profile
        if not p.key_file:
            raise SshAuthError(
                f"The host {p.name} has no key file.", hint="Add one: `layer hosts add ... --key FILE`."
            )
        pkey = self._load_key(p.key_file)
        try:
            transport.auth_publickey(p.user, pkey)
        except paramiko.AuthenticationException as exc:
            raise SshAuthError(
                f"{p.host}:{p.port} refused the key {p.key_file} for the user '{p.user}' ({exc})."
            ) from exc
        if not transport.is_authenticated():
            raise SshAuthError(f"{p.host}:{p.port} did not accept the login of '{p.user}'.")

    def _load_key(self, path: str) -> paramiko.PKey:
        try:
            return paramiko.PKey.from_path(path)
        except paramiko.PasswordRequiredException:
            secrets = self._secrets or KeyringSecrets()
            passphrase = secrets.get(self.profile.passphrase_secret)
            if passphrase is None:
                raise SshAuthError(
                    f"The key {path} needs a passphrase and none is in the keyring.",
                    hint=f"Store it: `layer hosts add {self.profile.name} ... --passphrase` (asks for it).",
                ) from None
            try:
                return paramiko.PKey.from_path(path, passphrase)
            except paramiko.SSHException as exc:
                raise SshAuthError(f"The key {path} cannot be opened with the stored passphrase.") from exc
        except (OSError, paramiko.SSHException, ValueError) as exc:
            raise SshAuthError(f"The key file {path} cannot be read: {exc}.", path=path) from exc

    def close(self) -> None:
        with self._lock:
            sftp, self._sftp = self._sftp, None
            t, self._transport = self._transport, None
        if sftp is not None:
            sftp.close()
        if t is not None:
            t.close()

    def __enter__(self) -> SshConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ commands

    def run(
        self, script: str, *, check: bool = True, timeout: float = 120.0, stdin: str | None = None
    ) -> commands.Result:
        """Run ``script`` under ``bash -lc``; raises ``RemoteCommandError`` (``RemoteDiskFullError`` when
        the disk is full) when it fails and ``check`` is set. ``stdin`` is what the script reads (then end
        of file): the way a secret reaches a remote process without argv or a file."""
        wrapped = commands.wrap(script)
        chan = self.transport.open_session(timeout=self.timeout)
        try:
            chan.settimeout(timeout)
            chan.exec_command(wrapped.command)
            if stdin is not None:
                chan.sendall(stdin.encode())
                chan.shutdown_write()
            out, err = _drain(chan, time.monotonic() + timeout)
        except TimeoutError as exc:
            raise RemoteCommandError(
                f"A command on {self.profile.name} did not finish in {timeout:g} s."
            ) from exc
        finally:
            chan.close()
        result = commands.parse(wrapped, out, err)
        if result is None:
            raise RemoteCommandError(
                f"The shell on {self.profile.name} ended before the command finished: {err.strip()[-400:]}"
            )
        if check and result.rc != 0:
            raise command_error(self.profile.name, result)
        return result

    def sftp(self) -> paramiko.SFTPClient:
        with self._lock:
            if self._sftp is None:
                self._sftp = paramiko.SFTPClient.from_transport(self.transport)
                if self._sftp is None:
                    raise SshError(f"{self.profile.name} refused the SFTP subsystem.")
            return self._sftp

    def read_text(self, path: str) -> str:
        try:
            with self.sftp().open(path, "r") as fh:
                return fh.read().decode("utf-8")
        except OSError as exc:
            raise RemoteCommandError(f"Cannot read {path} on {self.profile.name}: {exc}.") from exc


def command_error(host: str, result: commands.Result) -> LayerError:
    text = (result.err.strip() or result.out.strip())[-600:]
    if any(marker in text for marker in _DISK_FULL):
        return RemoteDiskFullError(f"The disk of {host} is full: {text}")
    return RemoteCommandError(f"A command on {host} failed (status {result.rc}): {text}")


def _drain(chan: paramiko.Channel, deadline: float) -> tuple[str, str]:
    out, err = bytearray(), bytearray()
    while True:
        if chan.recv_ready():
            out += chan.recv(65536)
        elif chan.recv_stderr_ready():
            err += chan.recv_stderr(65536)
        elif chan.exit_status_ready() and (chan.eof_received or chan.closed):
            break  # sshd may send the exit status before the last output (the sentinel): wait for EOF
        elif time.monotonic() > deadline:
            raise TimeoutError
        else:
            time.sleep(0.005)
    return out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


@dataclass(frozen=True)
class HostKeyInfo:
    host_id: str
    fingerprint: str
    kind: str
    trusted: bool


def peek_host_key(
    profile: HostProfile, known_hosts: KnownHosts | None = None, timeout: float = 15.0
) -> HostKeyInfo:
    """The host's key as offered, checked against the trusted one, without logging in (so a GUI can ask
    about an unknown key on its own thread before connecting). Raises ``HostKeyChangedError``."""
    known = known_hosts or KnownHosts()
    try:
        sock = socket.create_connection((profile.host, profile.port), timeout=timeout)
    except OSError as exc:
        raise SshError(f"Cannot reach {profile.host}:{profile.port}: {exc}.") from exc
    transport = paramiko.Transport(sock)
    try:
        transport.start_client(timeout=timeout)
        key = transport.get_remote_server_key()
    except paramiko.SSHException as exc:
        raise SshError(f"The SSH handshake with {profile.host}:{profile.port} failed: {exc}.") from exc
    finally:
        transport.close()
    trusted = known.check(profile.host_id, key)
    return HostKeyInfo(profile.host_id, fingerprint(key), key.get_name(), trusted)
