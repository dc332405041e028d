"""The engine on the host: find it from its runtime file (re-attach), or start it detached; a runtime
file whose pid is gone is cleared once and one engine started (the engine's own lock on its home makes
a second one exit, so two never serve one home)."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

from layer_desktop.errors import EngineUnavailableError, RemoteCommandError
from layer_desktop.remote.ssh import commands
from layer_desktop.remote.ssh.commands import EnginePlan
from layer_desktop.remote.ssh.connection import SshConnection

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClusterLink:
    """The Ray cluster an engine drives: its GCS address and token (never printed)."""

    address: str
    token: str = field(repr=False)


@dataclass(frozen=True)
class EngineRuntime:
    port: int
    pid: int
    version: str
    token: str
    started: bool  # True: started now; False: re-attached to a running one

    def __repr__(self) -> str:  # never print the token
        return f"EngineRuntime(port={self.port}, pid={self.pid}, version={self.version!r}, token=…)"


def parse_probe(out: str) -> tuple[str, dict[str, Any] | None]:
    """``(alive|dead|none, state)`` from ``probe_engine_script``'s output."""
    lines = [line for line in out.strip().splitlines() if line.strip()]
    if not lines or lines[-1] not in ("alive", "dead", "none"):
        raise RemoteCommandError(f"Unexpected answer when looking for the engine: {out[-300:]!r}")
    verdict = lines[-1]
    state = None
    if verdict != "none":
        try:
            state = json.loads("\n".join(lines[:-1]))
        except ValueError:
            verdict = "dead"  # a half-written or damaged runtime file: treat it as stale
    return verdict, state


def probe(conn: SshConnection, plan: EnginePlan) -> tuple[str, dict[str, Any] | None]:
    return parse_probe(conn.run(commands.probe_engine_script(plan)).out)


def stopped_reason(conn: SshConnection, plan: EnginePlan) -> str | None:
    """Why the engine stopped itself (idle watchdog, lifetime), when it did."""
    out = conn.run(f"cat {commands.q(plan.stopped_file)} 2>/dev/null || true").out.strip()
    try:
        return str(json.loads(out)["reason"]) if out else None
    except (ValueError, KeyError, TypeError):
        return None


def _runtime(conn: SshConnection, plan: EnginePlan, state: dict[str, Any], started: bool) -> EngineRuntime:
    token = conn.read_text(plan.token_file).strip()  # over SFTP: never in a command line
    return EngineRuntime(int(state["port"]), int(state["pid"]), str(state.get("version", "")), token, started)


def ensure_engine(
    conn: SshConnection,
    plan: EnginePlan,
    *,
    start: bool = True,
    idle_stop_s: float = 1800,
    max_lifetime_s: float = 0,
    timeout: float = 60,
    cluster: ClusterLink | None = None,
) -> EngineRuntime:
    """Re-attach to the host's engine, or (``start``) start one; ``cluster``: an engine that drives that
    Ray cluster (one that runs without it is an error: a cluster job would run on the head alone).
    Raises ``EngineUnavailableError``."""
    verdict, state = probe(conn, plan)
    if verdict == "alive" and state is not None and cluster and state.get("cluster") != cluster.address:
        raise EngineUnavailableError(
            f"The engine on {conn.profile.name} is not the head of the cluster at {cluster.address}.",
            hint=f"Stop it (`layer hosts stop {conn.profile.name}`) and run `layer cluster up` again.",
        )
    if verdict == "alive" and state is not None:
        log.info("re-attaching to the engine on %s (pid %s)", conn.profile.name, state.get("pid"))
        return _runtime(conn, plan, state, started=False)
    if verdict == "dead":
        log.warning("stale runtime file on %s (pid %s is gone): starting a fresh engine",
                    conn.profile.name, (state or {}).get("pid"))  # fmt: skip
        conn.run(commands.clear_stale_script(plan))
    if not start:
        why = stopped_reason(conn, plan)
        raise EngineUnavailableError(
            f"No engine runs on {conn.profile.name}" + (f" ({why})." if why else "."),
            hint=f"Start it with `layer hosts connect {conn.profile.name}`.",
        )
    return _start(conn, plan, idle_stop_s, max_lifetime_s, timeout, cluster)


def _start(
    conn: SshConnection, plan: EnginePlan, idle_s: float, life_s: float, timeout: float,
    cluster: ClusterLink | None = None,
) -> EngineRuntime:  # fmt: skip
    script = commands.start_engine_script(plan, idle_s, life_s, cluster.address if cluster else None)
    out = conn.run(script, stdin=cluster.token + "\n" if cluster else None).out.strip().splitlines()
    pid = int(out[-1])
    log.info("started the engine on %s (pid %d)", conn.profile.name, pid)
    result = conn.run(commands.wait_ready_script(plan, pid, timeout), check=False, timeout=timeout + 30)
    if result.rc == 0:
        return _runtime(conn, plan, json.loads(result.out), started=True)
    if result.rc == 3:  # another engine took the home first (its lock made ours exit): use that one
        verdict, state = probe(conn, plan)
        if verdict == "alive" and state is not None:
            return _runtime(conn, plan, state, started=False)
    raise EngineUnavailableError(
        f"The engine on {conn.profile.name} did not start. Its last output:\n{result.err.strip()[-1500:]}",
        hint=f"Check the host with `layer hosts doctor {conn.profile.name}`; "
        f"bootstrap it with `layer hosts bootstrap {conn.profile.name}`.",
    )


def stop_engine(conn: SshConnection, plan: EnginePlan) -> bool:
    """Stop the host's engine (SIGTERM, then SIGKILL); False when none ran."""
    verdict, state = probe(conn, plan)
    if verdict != "alive" or state is None:
        return False
    conn.run(commands.stop_engine_script(plan, int(state["pid"])), timeout=60)
    return True
