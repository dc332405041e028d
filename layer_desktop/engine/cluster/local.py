"""A named Ray cluster on this machine: ``layer cluster up NAME`` starts a head bound to 127.0.0.1 with
token auth (a new token, kept in the keyring), ``status`` asks it, ``down`` stops exactly its processes.
Jobs reach it with ``--engine cluster:NAME`` (``ray.init`` at its address, the token in the environment).

Nothing here imports Ray: the node scripts of ``nodes`` run under ``bash`` with this Python.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import subprocess
import sys
from pathlib import Path

from layer_desktop.engine.cluster import nodes, registry
from layer_desktop.engine.cluster.errors import ClusterError
from layer_desktop.engine.cluster.registry import ClusterRecord, NodeRecord
from layer_desktop.paths import HOME_ENV
from layer_desktop.secrets import KeyringSecrets

log = logging.getLogger(__name__)

SCRIPT_TIMEOUT_S = 180


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def has_ray(python: str = sys.executable) -> bool:
    done = subprocess.run([python, "-c", "import ray"], capture_output=True, check=False)
    return done.returncode == 0


def run_script(script: str, token: str | None, what: str) -> str:
    """Run a node script under ``bash`` here, the token on its standard input; its stdout."""
    try:
        done = subprocess.run(
            ["bash", "-c", script], input=None if token is None else token + "\n", capture_output=True,
            text=True, timeout=SCRIPT_TIMEOUT_S, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired as exc:
        raise ClusterError(f"Could not {what} in {SCRIPT_TIMEOUT_S} s.") from exc
    if done.returncode != 0:
        tail = " / ".join((done.stderr or done.stdout).strip().splitlines()[-4:])
        raise ClusterError(f"Could not {what}: {tail}")
    return done.stdout


def cluster_up(
    name: str, *, num_cpus: int | None = None, num_gpus: int | None = None, object_store_mb: int | None = None
) -> ClusterRecord:
    """Start the head of cluster ``name`` on 127.0.0.1. Raises ``ClusterError`` (already up, no Ray)."""
    registry.check_name(name)
    if registry.exists(name):
        raise ClusterError(
            f"The cluster {name!r} is already up.", hint=f"Stop it first: `layer cluster down {name}`."
        )
    if not has_ray():
        raise ClusterError(
            "Ray is not installed in this environment.",
            hint="Install the cluster extra: pip install 'layer-desktop[cluster]'.",
        )
    keyring = KeyringSecrets()
    token = secrets.token_urlsafe(32)
    keyring.set(registry.secret_name(name), token)
    folder = str(registry.clusters_dir() / name)
    node = nodes.NodeSpec(
        sys.executable, folder, "127.0.0.1", port=free_port(), dashboard_port=free_port(),
        agent_port=free_port(), num_cpus=num_cpus, num_gpus=num_gpus, object_store_mb=object_store_mb,
        layer_home=os.environ.get(HOME_ENV),
    )  # fmt: skip
    try:
        run_script(nodes.start_script(node), token, f"start the cluster {name!r}")
    except ClusterError:
        keyring.delete(registry.secret_name(name))
        raise
    assert node.port is not None and node.dashboard_port is not None
    record = ClusterRecord(
        name=name, kind="local", address=f"127.0.0.1:{node.port}", dashboard_port=node.dashboard_port,
        nodes=(NodeRecord(host=None, folder=folder, python=sys.executable),),
    )  # fmt: skip
    registry.save(record)
    log.info("cluster %s up at %s (dashboard 127.0.0.1:%d)", name, record.address, node.dashboard_port)
    return record


def cluster_status(record: ClusterRecord) -> str:
    """``ray status`` of a cluster on this machine, or of one the user runs, asked from here (nodes,
    resources, usage)."""
    python = record.head.python if record.nodes else sys.executable
    script = nodes.status_script(python, record.address)
    return run_script(script, registry.token(record.name), f"reach the cluster {record.name!r}")


def cluster_down(record: ClusterRecord) -> int:
    """Stop the cluster's processes on this machine and forget it; how many processes were stopped."""
    stopped = run_script(nodes.stop_script(record.head.folder), None, f"stop the cluster {record.name!r}")
    registry.forget(record.name)
    log.info("cluster %s stopped", record.name)
    return int(stopped.strip() or 0)


def node_processes(folder: str | Path) -> int:
    """How many processes the node whose folder is ``folder`` still has here."""
    return int(run_script(nodes.live_script(str(folder)), None, "count the node's processes").strip())
