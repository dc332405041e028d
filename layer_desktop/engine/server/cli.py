"""`layer-engine serve`: run the engine service (loopback only unless explicitly asked otherwise).

The token comes from the environment (``LAYER_ENGINE_TOKEN``), never from argv (argv is visible to every
user of the machine); without one a random token is made. Either way it is written owner-only (0600) to
the engine home's ``token`` file. ``state.json`` (host, port, pid, version) is written once the socket
listens, so its appearance means "ready"; both are removed at a clean exit. Logs go to a rotating file.
"""

from __future__ import annotations

import argparse
import fcntl
import ipaddress
import json
import logging
import logging.handlers
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from types import FrameType
from typing import TextIO

import uvicorn

from layer_desktop import __version__
from layer_desktop.engine.server.app import create_app
from layer_desktop.engine.server.home import TOKEN_ENV, EngineHome, new_token, write_private
from layer_desktop.engine.server.service import EngineService
from layer_desktop.engine.server.timeouts import server_config
from layer_desktop.engine.server.watchdog import IdleWatchdog

log = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"


def parse_args(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="layer-engine", description="Layer Desktop engine service")
    sub = ap.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the engine API (127.0.0.1 by default)")
    serve.add_argument("--home", type=Path, default=None, help="engine folder (default: <data>/engine)")
    serve.add_argument("--port", type=int, default=0, help="port (0: pick a free one)")
    serve.add_argument("--host", default=LOOPBACK, help="address to bind (only loopback unless allowed)")
    serve.add_argument(
        "--allow-remote-bind",
        action="store_true",
        help="allow a non-loopback --host (the API is then reachable from the network: use a tunnel instead)",
    )
    serve.add_argument(
        "--parent-pid",
        type=int,
        default=None,
        help="stop when this process is gone (the app that started a local engine)",
    )
    serve.add_argument(
        "--nice",
        type=int,
        default=0,
        help="lower the engine's CPU priority by this much (POSIX niceness; the app starts its own engine "
        "with 10, so the studio stays responsive while a render fills every core)",
    )
    serve.add_argument(
        "--allow-root",
        type=Path,
        action="append",
        default=[],
        help="a folder whose files a client may link in place (repeatable; default: none)",
    )
    serve.add_argument(
        "--idle-stop-after",
        type=float,
        default=0,
        help="stop after this many seconds with no job and no API call (0: never; for rented GPU boxes)",
    )
    serve.add_argument(
        "--max-lifetime",
        type=float,
        default=0,
        help="stop after this many seconds whatever happens (0: never)",
    )
    serve.add_argument(
        "--cluster",
        default=None,
        help="the GCS address (IP:PORT) of a Ray cluster whose workers encode this engine's transform "
        "chunks; its token comes in RAY_AUTH_TOKEN (never in argv)",
    )
    return ap.parse_args(argv)


def lower_priority(increment: int) -> None:
    """Make this process yield the CPU to the app. Called before the engine starts its threads (they
    inherit their creator's niceness); threads that imports already started (BLAS pools) are lowered one
    by one, as Linux keeps a niceness per thread. With autogroup scheduling (most desktops) niceness only
    ranks threads within their session, and the engine has a session of its own, so the session's group is
    lowered too. A no-op where niceness does not exist."""
    if increment <= 0:
        return
    if not hasattr(os, "nice"):
        log.info("this platform has no niceness: the engine runs at normal priority")
        return
    try:
        target = os.nice(increment)
        tasks = Path("/proc/self/task")
        for tid in (int(t.name) for t in tasks.iterdir()) if tasks.is_dir() else ():
            with suppress(ProcessLookupError):  # a thread that ended meanwhile
                os.setpriority(os.PRIO_PROCESS, tid, max(os.getpriority(os.PRIO_PROCESS, tid), target))
        _lower_autogroup(target)
    except OSError as exc:
        log.warning("could not lower the engine's priority by %d: %s", increment, exc)


def _lower_autogroup(nice: int) -> None:
    group = Path("/proc/self/autogroup")
    if not group.exists():
        return
    for _ in range(20):  # the kernel takes one autogroup change per 100 ms, machine-wide (EAGAIN)
        try:
            group.write_text(str(nice))
            return
        except BlockingIOError:
            time.sleep(0.1)
    log.warning("the engine's session group kept its priority (the kernel refused the change)")


def check_bind_address(host: str, allow_remote: bool) -> None:
    """Refuse a non-loopback address unless ``allow_remote``. Raises ``SystemExit`` with the reason."""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback and not allow_remote:
        raise SystemExit(
            f"refusing to bind {host}: the engine listens on 127.0.0.1 only; reach a remote engine through "
            "the SSH tunnel, or pass --allow-remote-bind if you really mean to expose it"
        )


def setup_logging(home: EngineHome) -> None:
    handler = logging.handlers.RotatingFileHandler(home.log_file, maxBytes=5_000_000, backupCount=3)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    err = logging.StreamHandler(sys.stderr)
    err.setLevel(logging.WARNING)
    root.addHandler(err)


class _Server(uvicorn.Server):
    """uvicorn re-raises SIGTERM after shutdown, which would skip our clean-up: stop gracefully instead."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        def stop(signum: int, frame: FrameType | None) -> None:
            self.should_exit = True

        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def hold_home_lock(home: EngineHome) -> TextIO:
    """An exclusive lock on the engine home, held for the process's life: two engines must never share
    one database and job folders. Raises ``SystemExit`` naming the other engine."""
    fh = (home.root / "engine.lock").open("a+", encoding="utf-8")
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        fh.close()
        other = (home.read_state() or {}).get("pid", "unknown")
        raise SystemExit(f"another engine (pid {other}) is already serving {home.root}") from None
    return fh


def watch_parent(parent_pid: int, server: uvicorn.Server) -> None:
    """Stop the server when the app that started this engine is gone (its child would be orphaned)."""

    def watch() -> None:
        while not server.should_exit:
            if os.getppid() != parent_pid:
                log.warning("the app (pid %d) is gone; stopping", parent_pid)
                server.should_exit = True
                return
            time.sleep(1.0)

    threading.Thread(target=watch, name="engine-parent-watch", daemon=True).start()


def serve(
    home: EngineHome,
    host: str,
    port: int,
    allowed_roots: list[Path],
    parent_pid: int | None = None,
    idle_s: float = 0,
    max_lifetime_s: float = 0,
    cluster: str | None = None,
) -> None:
    lock = hold_home_lock(home)
    early_stop = threading.Event()  # a SIGTERM before uvicorn takes over the signals still stops cleanly
    signal.signal(signal.SIGTERM, lambda signum, frame: early_stop.set())
    token = os.environ.pop(TOKEN_ENV, None) or new_token()
    write_private(home.token_file, token)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named: asyncio turns Nagle off only on sockets that say so (else ~40 ms a request)
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(64)
    actual = sock.getsockname()[1]
    service = EngineService(home, allowed_roots=allowed_roots, cluster=cluster)
    service.start()
    watchdog = IdleWatchdog(
        idle_s, max_lifetime_s, lambda: bool(service.store.unfinished()),
        lambda: setattr(server, "should_exit", True), home.root / "stopped.json",
    )  # fmt: skip
    app = create_app(service, token, on_request=watchdog.touch)
    server = _Server(server_config(app))
    # before the watchers start: one that already decided to stop (the app died while this engine was
    # still importing) must not be overwritten
    server.should_exit = early_stop.is_set()
    if parent_pid is not None:
        watch_parent(parent_pid, server)
    watchdog.start()
    state = {"host": host, "port": actual, "pid": os.getpid(), "version": __version__, "started": time.time(),
             "cluster": cluster}  # fmt: skip
    write_private(home.state_file, json.dumps(state))
    log.info("engine %s listening on %s:%d (home %s)", __version__, host, actual, home.root)
    try:
        server.run(sockets=[sock])
    finally:
        watchdog.close()
        service.stop()
        home.state_file.unlink(missing_ok=True)
        home.token_file.unlink(missing_ok=True)
        log.info("engine stopped")
        lock.close()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.command == "serve":
        check_bind_address(args.host, args.allow_remote_bind)
        lower_priority(args.nice)
        home = (EngineHome(args.home.resolve()) if args.home else EngineHome.default()).ensure()
        setup_logging(home)
        roots = [p.resolve() for p in args.allow_root]
        serve(home, args.host, args.port, roots, args.parent_pid, args.idle_stop_after, args.max_lifetime,
              args.cluster)  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
