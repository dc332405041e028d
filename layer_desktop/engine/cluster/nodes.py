"""Shell scripts that start, stop and ask after one Ray node, the same on this machine (``bash``) and on a
GPU host (over SSH). Nothing here imports Ray: each script runs the node's Python with ``-m
ray.scripts.scripts`` (the ``ray`` command, which a venv that reuses another's packages lacks).

Secrets: the cluster's token is read from the script's standard input into the environment of ``ray``
(``RAY_AUTH_MODE=token``), never put in argv, a log or a file. What is kept in the node's folder is not
secret: the session id of its Ray processes (``node.sid``) and Ray's output (``node.log``).

A node is stopped by its session: ``ray start`` runs under ``setsid``, so every process it starts (GCS,
raylet, dashboard, workers) shares the session id, and only those are stopped. ``ray stop`` would stop
every Ray process of the user on the machine: another cluster, or a test's own.
"""

from __future__ import annotations

import hashlib
import shlex
from collections.abc import Sequence
from dataclasses import dataclass

RAY_CLI = "ray.scripts.scripts"
STOP_WAIT_S = 6  # gcs_server takes a few seconds to leave on SIGTERM; then SIGKILL


def _q(value: object) -> str:
    return shlex.quote(str(value))


def _join(argv: Sequence[object]) -> str:
    return " ".join(_q(a) for a in argv)


@dataclass(frozen=True)
class NodeSpec:
    """One Ray node: ``join`` None starts a head (GCS on ``port``, dashboard and Jobs API on
    127.0.0.1:``dashboard_port``); else it joins the head at ``join`` ("IP:PORT")."""

    python: str  # the node's Python, with Ray installed
    folder: str  # the node's own folder (several nodes may share a machine)
    ip: str  # the address the other nodes reach this one at
    join: str | None = None
    port: int | None = None
    dashboard_port: int | None = None
    agent_port: int | None = None  # the dashboard agent's HTTP port (default 52365: one node a machine)
    num_cpus: int | None = None
    num_gpus: int | None = None  # fake GPUs on a CPU machine place ``num_gpus`` tasks in tests
    object_store_mb: int | None = None
    layer_home: str | None = None  # LAYER_HOME of the node's workers: the host's models (bootstrap's)

    @property
    def sid_file(self) -> str:
        return f"{self.folder.rstrip('/')}/node.sid"

    @property
    def log_file(self) -> str:
        return f"{self.folder.rstrip('/')}/node.log"

    @property
    def temp_dir(self) -> str:
        return temp_dir(self.folder)

    def start_args(self) -> list[str]:
        args = [self.python, "-m", RAY_CLI, "start", f"--node-ip-address={self.ip}",
                f"--temp-dir={self.temp_dir}", "--disable-usage-stats"]  # fmt: skip
        if self.join is None:
            args += ["--head", f"--port={self.port}", "--dashboard-host=127.0.0.1",
                     f"--dashboard-port={self.dashboard_port}"]  # fmt: skip
        else:
            args.append(f"--address={self.join}")
        for flag, value in (("--dashboard-agent-listen-port", self.agent_port), ("--num-cpus", self.num_cpus),
                            ("--num-gpus", self.num_gpus)):  # fmt: skip
            if value is not None:
                args.append(f"{flag}={value}")
        if self.object_store_mb is not None:
            args.append(f"--object-store-memory={self.object_store_mb * 1024 * 1024}")
        return args


def temp_dir(folder: str) -> str:
    """Ray's session (sockets, logs) of the node in ``folder``: short (a Unix socket path has at most 107
    bytes), one per node folder, removed when the node stops."""
    return f"/tmp/layer-ray-{hashlib.sha256(folder.encode()).hexdigest()[:10]}"


def _token_from_stdin() -> str:
    return "IFS= read -r RAY_AUTH_TOKEN || exit 64; export RAY_AUTH_TOKEN RAY_AUTH_MODE=token; "


def start_script(node: NodeSpec) -> str:
    """Start the node in a new session (its processes outlive the caller) and print that session's id.
    Exits with Ray's status; the tail of ``node.log`` goes to stderr when it fails."""
    folder, sid, logf = _q(node.folder), _q(node.sid_file), _q(node.log_file)
    return (
        _token_from_stdin()
        + (f"export LAYER_HOME={_q(node.layer_home)}; " if node.layer_home else "")
        + f"umask 077; mkdir -p {folder} || exit 1; "
        # a node already running here is stopped first: one node per folder
        + stop_script(node.folder, tail=False)
        + f'setsid -w sh -c \'echo $$ > "$0"; exec "$@"\' {sid} {_join(node.start_args())}'
        f" </dev/null >{logf} 2>&1; rc=$?; "
        f"if [ $rc -ne 0 ]; then tail -n 15 {logf} >&2; exit $rc; fi; cat {sid}"
    )


def stop_script(folder: str, *, tail: bool = True) -> str:
    """Stop every process of the node's session (SIGTERM, then SIGKILL after ``STOP_WAIT_S``); print how
    many there were. Nothing to do when the folder has no node."""
    sid = _q(f"{folder.rstrip('/')}/node.sid")
    body = (
        f"if [ -s {sid} ]; then s=$(cat {sid}); "
        "p() { ps -eo pid=,sess= | awk -v s=\"$s\" '$2==s {print $1}'; }; n=$(p | wc -l); "
        '[ -n "$(p)" ] && kill -TERM $(p) 2>/dev/null; '
        f'for i in $(seq {STOP_WAIT_S * 10}); do [ -z "$(p)" ] && break; sleep 0.1; done; '
        '[ -n "$(p)" ] && kill -KILL $(p) 2>/dev/null; '
        f"rm -f {sid}; rm -rf {_q(temp_dir(folder))}; else n=0; fi; "
    )
    return body + ('echo "$n"' if tail else "")


def status_script(python: str, address: str) -> str:
    """``ray status`` of the cluster whose GCS is at ``address`` (token from stdin)."""
    return _token_from_stdin() + _join([python, "-m", RAY_CLI, "status", f"--address={address}"])


def live_script(folder: str) -> str:
    """Print how many processes the node in ``folder`` has (0: none, or no node there)."""
    sid = _q(f"{folder.rstrip('/')}/node.sid")
    return (
        f"if [ -s {sid} ]; then s=$(cat {sid}); ps -eo sess= | awk -v s=\"$s\" '$1==s' | wc -l; "
        "else echo 0; fi"
    )


def active_nodes(status: str) -> int:
    """How many nodes ``ray status`` lists as active."""
    lines = status.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == "Active:") + 1
    except StopIteration:
        return 0
    count = 0
    for line in lines[start:]:
        if not line.startswith(" "):
            break
        count += "node_" in line
    return count
