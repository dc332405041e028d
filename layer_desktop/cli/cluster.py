"""`layer cluster up|add|status|down|list`: a Ray cluster that renders a job's chunks on several GPUs, on this
machine or formed from managed GPU hosts over SSH; `--engine cluster:NAME` sends a transform to it.

The cluster's token lives in the keyring only; Ray gets it in a process's environment or on a remote
script's standard input, never in argv.
"""

from __future__ import annotations

import ipaddress
import sys
from typing import Annotated

import typer

from layer_desktop.cli.common import out
from layer_desktop.engine.cluster import registry

app = typer.Typer(help="A Ray cluster that renders a job's chunks on several GPUs.", no_args_is_help=True)

NameArg = Annotated[str, typer.Argument(help="The cluster's name (letters, digits, '-' and '_').")]
PREFIX = "cluster:"
ADDRESSES = ("local", "auto")  # cluster:local (this process), cluster:auto (the one `ray start` made)


def _name_of(engine: str) -> str | None:
    """The registered cluster an ``--engine cluster:…`` value names (None: it is a Ray address)."""
    value = engine.removeprefix(PREFIX)
    if value in ADDRESSES or "://" in value or ":" in value:
        return None
    registry.check_name(value)
    return value


def cluster_on_hosts(engine: str) -> bool:
    """True when ``cluster:NAME`` is a cluster formed from GPU hosts (its head's engine runs the job)."""
    name = _name_of(engine)
    return name is not None and registry.load(name).kind == "ssh"


def cluster_address(engine: str) -> str:
    """The Ray address for ``cluster:…``; a cluster started here by name also gets its token into this
    process's environment."""
    name = _name_of(engine)
    if name is None:
        return engine.removeprefix(PREFIX)
    record = registry.load(name)
    registry.use_token(name)
    return record.address


@app.command("up")
def up(
    name: NameArg,
    host: Annotated[
        list[str] | None,
        typer.Option(
            "--host",
            help="A managed GPU host (`layer hosts add`); the first is the head. "
            "Repeat for each worker. None: a head on this machine.",
        ),
    ] = None,
    bootstrap: Annotated[
        bool, typer.Option("--bootstrap", help="Install the engine with Ray on each host first.")
    ] = False,
    num_gpus: Annotated[
        int | None,
        typer.Option("--num-gpus", min=0, help="GPUs each node offers (default: those Ray finds)."),
    ] = None,
    num_cpus: Annotated[int | None, typer.Option("--num-cpus", min=1, help="CPUs each node offers.")] = None,
    object_store_mb: Annotated[
        int | None, typer.Option("--object-store-mb", min=80, help="Each node's object store (MB).")
    ] = None,
    node_ip: Annotated[
        list[str] | None,
        typer.Option(
            "--node-ip",
            help="HOST=IP: the address the other nodes reach a host at (a private "
            "network's), where it is not the host's SSH address. Repeatable.",
        ),
    ] = None,
) -> None:
    """Start a cluster: a head on this machine (127.0.0.1 only), or Ray on GPU hosts over SSH."""
    if not host and node_ip:
        raise typer.BadParameter("only for a cluster of --host machines", param_hint="--node-ip")
    if not host:
        from layer_desktop.engine.cluster.local import cluster_up

        record = cluster_up(name, num_cpus=num_cpus, num_gpus=num_gpus, object_store_mb=object_store_mb)
    else:
        from layer_desktop.remote.ssh.bootstrap import BootstrapOptions
        from layer_desktop.remote.ssh.cluster import NodeOptions, form_cluster
        from layer_desktop.remote.ssh.hosts import HostStore

        store = HostStore()
        profiles = [store.get(h) for h in host]
        if len({p.name for p in profiles}) != len(profiles):
            raise typer.BadParameter("each host may be named once", param_hint="--host")
        record = form_cluster(
            name, profiles[0], profiles[1:], options=NodeOptions(num_cpus, num_gpus, object_store_mb),
            bootstrap=BootstrapOptions(cluster=True) if bootstrap else None, say=out.print,
            node_ips=_node_ips(node_ip or [], [p.name for p in profiles]),
        )  # fmt: skip
    where = ", ".join(n.host or "this machine" for n in record.nodes)
    out.print(f"cluster {record.name} up at {record.address} ({len(record.nodes)} nodes: {where})")
    out.print(f"run a job on it: layer transform … --engine cluster:{record.name}")


def _node_ips(values: list[str], hosts: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for value in values:
        host, _, ip = value.partition("=")
        try:
            ipaddress.ip_address(ip)
        except ValueError:
            raise typer.BadParameter(f"{value!r} is not HOST=IP", param_hint="--node-ip") from None
        if host not in hosts:
            raise typer.BadParameter(f"{host!r} is not one of the --host values", param_hint="--node-ip")
        found[host] = ip
    return found


@app.command("add")
def add(
    name: NameArg,
    address: Annotated[
        str, typer.Option("--address", help="The cluster's GCS (HOST:PORT) or ray://HOST:PORT.")
    ],
    token_stdin: Annotated[
        bool, typer.Option("--token-stdin", help="Read the token from standard input (else it is asked for).")
    ] = False,
) -> None:
    """Use a Ray cluster you run yourself: its address, and its token (`ray get-auth-token`) kept in the
    keyring."""
    from layer_desktop.engine.cluster.errors import ClusterError
    from layer_desktop.secrets import KeyringSecrets

    registry.check_name(name)
    if registry.exists(name):
        raise ClusterError(
            f"There is a cluster named {name!r} already.", hint=f"`layer cluster down {name}`."
        )
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise typer.BadParameter(f"{address!r} is not HOST:PORT or ray://HOST:PORT", param_hint="--address")
    token = sys.stdin.readline().strip() if token_stdin else typer.prompt("Token", hide_input=True).strip()
    if not token:
        raise typer.BadParameter("the cluster needs its token (token auth stays on)", param_hint="token")
    KeyringSecrets().set(registry.secret_name(name), token)
    registry.save(registry.ClusterRecord(name=name, kind="external", address=address))
    out.print(f"cluster {name} at {address}: use it with --engine cluster:{name}")


@app.command("status")
def status(name: NameArg) -> None:
    """Nodes, resources and usage of a cluster (`ray status` on its head)."""
    record = registry.load(name)
    if record.address.startswith("ray://"):
        out.print(f"{name}: a Ray client address ({record.address}); see its dashboard for its state.")
        return
    if record.kind in ("local", "external"):
        from layer_desktop.engine.cluster.local import cluster_status
    else:
        from layer_desktop.remote.ssh.cluster import cluster_status  # type: ignore[assignment]
    out.print(cluster_status(record), markup=False, highlight=False)


@app.command("down")
def down(name: NameArg) -> None:
    """Stop every node of a cluster (only its own processes) and forget its token."""
    record = registry.load(name)
    if record.kind == "external":
        registry.forget(name)
        out.print(f"cluster {name} forgotten (not stopped: it was not started here)")
        return
    if record.kind == "local":
        from layer_desktop.engine.cluster.local import cluster_down

        out.print(f"cluster {name} stopped ({cluster_down(record)} processes)")
        return
    from layer_desktop.remote.ssh.cluster import cluster_down as down_on_hosts

    stopped = down_on_hosts(record)
    out.print(f"cluster {name} stopped: " + ", ".join(f"{h} {n} processes" for h, n in stopped.items()))


@app.command("list")
def list_clusters() -> None:
    """The clusters started with `layer cluster up`."""
    for path in sorted(registry.clusters_dir().glob("*.json")):
        record = registry.load(path.stem)
        hosts = ", ".join(n.host or "this machine" for n in record.nodes) or "-"
        out.print(f"{record.name}\t{record.kind}\t{record.address}\t{hosts}")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="cluster")
