"""A Ray cluster formed from managed GPU hosts over SSH: ``ray start --head`` on the first host, ``ray
start --address`` on the others, each node in ``<work dir>/ray`` of its host, and the head host's engine
restarted to drive the cluster (``serve --cluster``). Jobs reach that engine through the usual SSH tunnel
(``RemoteEngine`` with a ``ClusterLink``), so a cluster job is followed, cancelled and downloaded like any
other, and its ``chunk`` events say which worker made which chunk.

The token (``RAY_AUTH_MODE=token``) is made here, kept in the keyring and sent on the standard input of
each remote ``ray start`` and of the engine: never in argv, a log or a file. The dashboard and Jobs API
bind to 127.0.0.1 on the head; Ray's other ports (GCS, raylets, object transfer) listen on every
interface of each host, as nodes must reach each other, and refuse a caller without the token.
"""

from __future__ import annotations

import logging
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass

from layer_desktop.engine.cluster import nodes, registry
from layer_desktop.engine.cluster.errors import ClusterError
from layer_desktop.engine.cluster.registry import ClusterRecord, NodeRecord
from layer_desktop.errors import LayerError
from layer_desktop.remote.ssh.bootstrap import Bootstrap, BootstrapOptions
from layer_desktop.remote.ssh.commands import EnginePlan, q, remote_path
from layer_desktop.remote.ssh.connection import SecretSource, SshConnection
from layer_desktop.remote.ssh.engine_host import ClusterLink, ensure_engine, stop_engine
from layer_desktop.remote.ssh.hosts import HostProfile, HostStore
from layer_desktop.remote.ssh.known_hosts import KnownHosts
from layer_desktop.remote.ssh.session import RemoteEngine, resolve_work_dir
from layer_desktop.secrets import KeyringSecrets

log = logging.getLogger(__name__)

Say = Callable[[str], None]
START_TIMEOUT_S = 180
JOIN_TIMEOUT_S = 90
_PORTS = "import socket\nfor _ in range({n}):\n s=socket.socket(); s.bind(('',0)); print(s.getsockname()[1])"


@dataclass(frozen=True)
class NodeOptions:
    num_cpus: int | None = None
    num_gpus: int | None = None  # default: the GPUs Ray finds on each host
    object_store_mb: int | None = None  # default: Ray's (30 % of RAM, in /dev/shm)


@dataclass(frozen=True)
class SshAccess:
    """How the hosts are reached: the known host keys and where key passphrases come from."""

    known_hosts: KnownHosts | None = None
    secrets: SecretSource | KeyringSecrets | None = None

    def open(self, profile: HostProfile) -> SshConnection:
        return SshConnection(profile, self.known_hosts or KnownHosts(), secrets=self.secrets).open()


class _Host:
    def __init__(self, profile: HostProfile, access: SshAccess) -> None:
        self.profile = profile
        self.conn = access.open(profile)
        self.plan = EnginePlan(resolve_work_dir(self.conn, profile.work_dir))
        self.folder = remote_path(self.plan.work_dir, "ray")

    def ports(self, n: int) -> list[int]:
        out = self.conn.run(f"{q(self.plan.python)} -c {q(_PORTS.format(n=n))}").out.split()
        return [int(p) for p in out[-n:]]

    def check_ray(self) -> None:
        found = self.conn.run(f"{q(self.plan.python)} -c 'import ray' 2>&1", check=False)
        if found.rc != 0:
            raise ClusterError(
                f"Ray is not installed on {self.profile.name} ({found.out.strip()[-200:]}).",
                hint="Start the cluster with --bootstrap (it installs the engine with its cluster extra).",
            )

    def start(self, node: nodes.NodeSpec, token: str) -> None:
        result = self.conn.run(
            nodes.start_script(node), stdin=token + "\n", check=False, timeout=START_TIMEOUT_S
        )
        if result.rc != 0:
            raise ClusterError(
                f"Ray did not start on {self.profile.name}: {result.err.strip()[-600:]}",
                hint=f"Its log is {node.log_file} on the host.",
            )

    def stop(self) -> int:
        return int(self.conn.run(nodes.stop_script(self.folder), timeout=60).out.strip() or 0)

    def record(self) -> NodeRecord:
        return NodeRecord(host=self.profile.name, folder=self.folder, python=self.plan.python)


def _wait_for_nodes(head: _Host, address: str, count: int, token: str) -> None:
    """Wait until ``count`` nodes are active (a worker's ``ray start`` returns before the head lists it)."""
    deadline = time.monotonic() + JOIN_TIMEOUT_S
    status = ""
    while time.monotonic() < deadline:
        result = head.conn.run(
            nodes.status_script(head.plan.python, address), stdin=token + "\n", check=False, timeout=90
        )
        status = result.out
        if result.rc == 0 and nodes.active_nodes(status) >= count:
            return
        time.sleep(1)
    raise ClusterError(
        f"Only {nodes.active_nodes(status)} of {count} nodes joined in {JOIN_TIMEOUT_S} s.",
        hint="Each worker must reach the head's address and ports (a firewall?); see node.log in each "
        "host's <work dir>/ray.",
    )


def node_ip(profile: HostProfile) -> str:
    """The address the other nodes reach this host at (its SSH address, resolved here)."""
    try:
        return socket.gethostbyname(profile.host)
    except OSError as exc:
        raise ClusterError(f"Cannot resolve {profile.host} ({profile.name}): {exc}.") from exc


def form_cluster(
    name: str, head: HostProfile, workers: list[HostProfile], *, options: NodeOptions | None = None,
    access: SshAccess | None = None, bootstrap: BootstrapOptions | None = None,
    keyring: KeyringSecrets | None = None, say: Say | None = None, node_ips: dict[str, str] | None = None,
) -> ClusterRecord:  # fmt: skip
    """Start the cluster ``name``: the head on ``head``, a worker node on each of ``workers`` (each
    bootstrapped first when ``bootstrap`` is given), then the head's engine as the cluster's driver.
    ``node_ips``: the address the other nodes reach a host at, by host name (a private network's),
    where it is not the host's SSH address. On failure every node started so far is stopped again.
    Raises ``ClusterError`` and SSH errors."""
    registry.check_name(name)
    if registry.exists(name):
        raise ClusterError(
            f"The cluster {name!r} is already up.", hint=f"Stop it first: `layer cluster down {name}`."
        )
    options, access, keyring = options or NodeOptions(), access or SshAccess(), keyring or KeyringSecrets()
    say = say or log.info
    hosts = [_Host(p, access) for p in (head, *workers)]
    started: list[_Host] = []
    token = secrets.token_urlsafe(32)
    keyring.set(registry.secret_name(name), token)
    try:
        for host in hosts:
            if bootstrap is not None:
                say(f"{host.profile.name}: bootstrap")
                Bootstrap(host.conn, host.plan, bootstrap).run()
            host.check_ray()
        ips = {h.profile.name: (node_ips or {}).get(h.profile.name) or node_ip(h.profile) for h in hosts}
        port, dash, agent = hosts[0].ports(3)
        address = f"{ips[head.name]}:{port}"
        for i, host in enumerate(hosts):
            role = "head" if i == 0 else "worker"
            say(f"{host.profile.name}: starting the Ray {role}")
            node = nodes.NodeSpec(
                host.plan.python, host.folder, ips[host.profile.name], join=None if i == 0 else address,
                port=port, dashboard_port=dash, agent_port=agent if i == 0 else host.ports(1)[0],
                num_cpus=options.num_cpus, num_gpus=options.num_gpus, object_store_mb=options.object_store_mb,
                layer_home=host.plan.app_home,
            )  # fmt: skip
            started.append(host)
            host.start(node, token)
        _wait_for_nodes(hosts[0], address, len(hosts), token)
        say(f"{head.name}: starting the engine that drives the cluster")
        stop_engine(hosts[0].conn, hosts[0].plan)  # a plain engine there would run jobs on the head alone
        ensure_engine(
            hosts[0].conn, hosts[0].plan, idle_stop_s=head.idle_stop_minutes * 60,
            max_lifetime_s=head.max_lifetime_hours * 3600, cluster=ClusterLink(address, token),
        )  # fmt: skip
        record = ClusterRecord(
            name=name,
            kind="ssh",
            address=address,
            dashboard_port=dash,
            nodes=tuple(h.record() for h in hosts),
        )
        registry.save(record)
        return record
    except BaseException:
        for host in reversed(started):
            try:
                host.stop()
            except LayerError as exc:  # the original error matters more
                log.warning("could not stop Ray on %s: %s", host.profile.name, exc)
        keyring.delete(registry.secret_name(name))
        raise
    finally:
        for host in hosts:
            host.conn.close()


def _profiles(record: ClusterRecord, hosts: HostStore | None) -> list[HostProfile]:
    store = hosts or HostStore()
    return [store.get(n.host) for n in record.nodes if n.host is not None]


def cluster_status(record: ClusterRecord, *, access: SshAccess | None = None,
                   hosts: HostStore | None = None) -> str:  # fmt: skip
    """``ray status`` on the head host."""
    head = _profiles(record, hosts)[0]
    with (access or SshAccess()).open(head) as conn:
        script = nodes.status_script(record.head.python, record.address)
        result = conn.run(script, stdin=registry.token(record.name) + "\n", check=False, timeout=90)
    if result.rc != 0:
        raise ClusterError(f"The cluster {record.name!r} does not answer: {result.err.strip()[-400:]}")
    return result.out


def cluster_down(record: ClusterRecord, *, access: SshAccess | None = None,
                 hosts: HostStore | None = None) -> dict[str, int]:  # fmt: skip
    """Stop the head's engine, then Ray on the workers and on the head; forget the cluster when every
    host was reached. Returns the processes stopped per host."""
    access = access or SshAccess()
    stopped: dict[str, int] = {}
    failed: dict[str, str] = {}
    profiles = _profiles(record, hosts)
    for i, profile in reversed(list(enumerate(profiles))):
        try:
            host = _Host(profile, access)
            with host.conn:
                if i == 0:
                    stop_engine(host.conn, host.plan)
                stopped[profile.name] = host.stop()
        except LayerError as exc:
            failed[profile.name] = exc.message
    if failed:
        raise ClusterError(
            "Could not stop Ray on " + "; ".join(f"{k}: {v}" for k, v in failed.items()),
            hint=f"Run `layer cluster down {record.name}` again once the hosts answer.",
        )
    registry.forget(record.name)
    return stopped


def head_engine(record: ClusterRecord, *, access: SshAccess | None = None,
                hosts: HostStore | None = None) -> RemoteEngine:  # fmt: skip
    """The head host's engine, which runs a job's chunks on the cluster (connect it, then submit)."""
    access = access or SshAccess()
    link = ClusterLink(record.address, registry.token(record.name))
    return RemoteEngine(
        _profiles(record, hosts)[0], known_hosts=access.known_hosts, secrets=access.secrets, cluster=link
    )
