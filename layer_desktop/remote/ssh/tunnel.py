"""A local port forwarded to a port on the host over the connection's own transport (``direct-tcpip``
channels): no second connection, no second host-key check to forget. The local port stays the same
across reconnects (each new local connection uses whatever transport is current), so an ``EngineClient``
pointed at it keeps working after the link was re-established."""

from __future__ import annotations

import contextlib
import logging
import select
import socket
import threading
from collections.abc import Callable

import paramiko

from layer_desktop.errors import LayerError, SshForwardingError

log = logging.getLogger(__name__)

_OPEN_FAILED_PROHIBITED = 1  # SSH_OPEN_ADMINISTRATIVELY_PROHIBITED


def open_forward(
    transport: paramiko.Transport, target: tuple[str, int], timeout: float = 10.0
) -> paramiko.Channel:
    """A channel to ``target`` on the host. Raises ``SshForwardingError`` when the server forbids
    forwarding, ``paramiko.ChannelException`` when nothing listens there."""
    try:
        return transport.open_channel("direct-tcpip", target, ("127.0.0.1", 0), timeout=timeout)
    except paramiko.ChannelException as exc:
        if exc.code == _OPEN_FAILED_PROHIBITED:
            raise SshForwardingError(
                "The SSH server does not allow TCP forwarding, so no tunnel can be opened."
            ) from exc
        raise


def forwarding_allowed(transport: paramiko.Transport) -> bool:
    """Ask for a channel to a port nothing listens on: "prohibited" means forwarding is off; "connect
    failed" means it is on."""
    try:
        open_forward(transport, ("127.0.0.1", 9), timeout=10).close()
    except SshForwardingError:
        return False
    except (paramiko.ChannelException, paramiko.SSHException):
        return True
    return True


class Tunnel:
    """Listens on 127.0.0.1 (a free port) and forwards each connection to ``target`` on the host."""

    def __init__(self, transport: Callable[[], paramiko.Transport], target: tuple[str, int]) -> None:
        self._transport, self.target = transport, target
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._server.getsockname()[1]
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._accepter = threading.Thread(target=self._accept, name="ssh-tunnel-accept", daemon=True)
        self._accepter.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def retarget(self, target: tuple[str, int]) -> None:
        self.target = target  # a restarted engine listens on another port

    def close(self) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):
            self._server.shutdown(socket.SHUT_RDWR)
        self._server.close()
        self._accepter.join(5)
        for t in list(self._threads):
            t.join(5)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                sock, _ = self._server.accept()
            except OSError:
                return
            t = threading.Thread(target=self._serve, args=(sock,), name="ssh-tunnel-pipe", daemon=True)
            self._threads = [x for x in self._threads if x.is_alive()] + [t]
            t.start()

    def _serve(self, sock: socket.socket) -> None:
        try:
            chan = open_forward(self._transport(), self.target)
        # EOFError: paramiko's reader saw the link close while the channel was being opened
        except (LayerError, paramiko.SSHException, OSError, EOFError) as exc:
            log.info("tunnel to %s:%d not opened: %s", *self.target, exc)
            sock.close()
            return
        try:
            _pipe(sock, chan, self._stop)
        except (OSError, EOFError, paramiko.SSHException) as exc:  # the link died under this connection
            log.info("tunnel connection to %s:%d ended: %r", *self.target, exc)
        finally:
            with contextlib.suppress(OSError, EOFError, paramiko.SSHException):
                chan.close()  # on a dead transport, closing the channel cannot be sent
            sock.close()


def _pipe(sock: socket.socket, chan: paramiko.Channel, stop: threading.Event) -> None:
    while not stop.is_set():
        ready, _, _ = select.select([sock.fileno(), chan.fileno()], [], [], 0.5)
        transport = chan.get_transport()
        if chan.closed or transport is None or not transport.is_active():
            return
        if sock.fileno() in ready:
            data = sock.recv(262144)
            if not data:
                return
            chan.sendall(data)
        if chan.fileno() in ready:
            data = chan.recv(262144)
            if not data:
                return
            sock.sendall(data)
