"""`layer hosts add|list|remove|forget-key|doctor|bootstrap|connect|disconnect|logs`: GPU hosts over SSH.

The key passphrase is asked for (hidden) and kept in the keyring only. A host's key is trusted after you
compared its fingerprint (a prompt, or ``--accept-fingerprint SHA256:...`` in scripts).
"""

from __future__ import annotations

import re
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Annotated

import typer

from layer_desktop.cli.common import console, out
from layer_desktop.errors import InputError, SecretStoreUnavailable
from layer_desktop.remote.ssh.bootstrap import Bootstrap, BootstrapOptions
from layer_desktop.remote.ssh.commands import EnginePlan, q
from layer_desktop.remote.ssh.connection import SshConnection
from layer_desktop.remote.ssh.doctor import run_doctor
from layer_desktop.remote.ssh.engine_host import ensure_engine, stop_engine
from layer_desktop.remote.ssh.hosts import DEFAULT_WORK_DIR, HostProfile, HostStore
from layer_desktop.remote.ssh.known_hosts import KnownHosts
from layer_desktop.remote.ssh.session import resolve_work_dir
from layer_desktop.secrets import KeyringSecrets

app = typer.Typer(help="GPU hosts reached over SSH (the engine runs there).", no_args_is_help=True)

_FINGERPRINT = re.compile(r"^SHA256:[A-Za-z0-9+/]{43}=?$")
AcceptOption = Annotated[
    str | None, typer.Option("--accept-fingerprint", help="Trust this host key (SHA256:...) without asking.")
]
_LEVEL = {"ok": "[green]ok[/]", "warning": "[yellow]warning[/]", "failure": "[red]failure[/]"}


def ask_fingerprint(host_id: str, fp: str, kind: str) -> bool:
    console.print(f"The host {host_id} is not known yet. Its {kind} key fingerprint is:\n  [bold]{fp}[/]")
    console.print("Compare it with the one your provider shows (or `ssh-keygen -lf` on the host).")
    return typer.confirm("Trust this key?", default=False)


@contextmanager
def open_host(name: str, accept_fingerprint: str | None = None):  # type: ignore[no-untyped-def]
    profile = HostStore().get(name)
    accept = None if accept_fingerprint else ask_fingerprint
    with SshConnection(profile, KnownHosts(), accept=accept, accept_fingerprint=accept_fingerprint) as conn:
        conn.open()
        yield conn, EnginePlan(resolve_work_dir(conn, profile.work_dir))


@app.command("add")
def add(
    name: str,
    host: Annotated[str, typer.Option("--host", help="Address or name of the box.")],
    key: Annotated[str, typer.Option("--key", help="Private key file to log in with.")],
    port: Annotated[int, typer.Option("--port")] = 22,
    user: Annotated[str, typer.Option("--user")] = "root",
    provider: Annotated[str | None, typer.Option("--provider", help="vast, runpod, ...")] = None,
    instance_id: Annotated[str | None, typer.Option("--instance-id")] = None,
    work_dir: Annotated[str, typer.Option("--work-dir")] = DEFAULT_WORK_DIR,
    idle_minutes: Annotated[
        float, typer.Option("--idle-minutes", help="Stop an idle engine (0: never).")
    ] = 30,
    passphrase: Annotated[bool, typer.Option("--passphrase", help="Ask for the key's passphrase.")] = False,
    accept_fingerprint: AcceptOption = None,
    connect: Annotated[bool, typer.Option(help="Connect now to trust the host key.")] = True,
) -> None:
    """Add (or change) a host and trust its key."""
    _check_add(key, accept_fingerprint)
    profile = HostProfile(
        name=name, host=host, port=port, user=user, key_file=key, provider=provider,
        instance_id=instance_id, work_dir=work_dir, idle_stop_minutes=idle_minutes,
    )  # fmt: skip
    if passphrase:
        secret = typer.prompt("Passphrase of the key", hide_input=True)
        KeyringSecrets().set(profile.passphrase_secret, secret)
    HostStore().put(profile)
    out.print(f"host {name}: {user}@{host}:{port}")
    if connect:
        with open_host(name, accept_fingerprint):
            out.print(f"connected; the host key of {profile.host_id} is trusted")


def _check_add(key: str, fingerprint: str | None) -> None:
    """Mistakes found before anything is stored: a key file that is not there, a fingerprint that is
    not OpenSSH's ``SHA256:…`` form (an MD5 one cannot be compared with the key we get)."""
    if not Path(key).expanduser().is_file():
        raise InputError(
            f"The key file {key} does not exist.",
            hint="Give the private key you log in with (e.g. --key ~/.ssh/id_ed25519).",
        )
    if fingerprint is not None and not _FINGERPRINT.match(fingerprint):
        raise InputError(
            f"'{fingerprint}' is not a SHA256 host-key fingerprint.",
            hint="Copy it as the provider shows it or as `ssh-keygen -lf KEY.pub` prints it: SHA256:….",
        )


@app.command("list")
def list_hosts() -> None:
    """The hosts and their trusted key's fingerprint (one line each, to compare and to grep)."""
    known = KnownHosts()
    for p in HostStore().all():
        entry = known.get(p.host_id)
        fp = entry.fingerprint if entry else "key not trusted yet"
        out.print(f"{p.name}  {p.user}@{p.host}:{p.port}  {p.work_dir}  {fp}", soft_wrap=True)


@app.command("remove")
def remove(name: str) -> None:
    """Forget a host: its profile, trusted key and stored passphrase."""
    profile = HostStore().remove(name)
    KnownHosts().forget(profile.host_id)
    with suppress(SecretStoreUnavailable):  # nothing can be stored there, so nothing to delete
        KeyringSecrets().delete(profile.passphrase_secret)
    out.print(f"host {name} removed")


@app.command("forget-key")
def forget_key(name: str) -> None:
    """Forget a host's trusted key (after the provider confirmed it changed)."""
    profile = HostStore().get(name)
    removed = KnownHosts().forget(profile.host_id)
    out.print(f"host key of {name} forgotten" if removed else f"no key was trusted for {name}")


@app.command("doctor")
def doctor(name: str, accept_fingerprint: AcceptOption = None) -> None:
    """Check the host: OS, Python, GPU, CUDA, free disk, TCP forwarding."""
    with open_host(name, accept_fingerprint) as (conn, plan):
        checks = run_doctor(conn, plan.work_dir)
    for c in checks:
        todo = f"\n    [dim]what to do:[/] {c.todo}" if c.todo and c.level != "ok" else ""
        out.print(f"{_LEVEL[c.level]:>20} {c.name}: {c.detail}{todo}")
    if any(c.level == "failure" for c in checks):
        raise typer.Exit(1)


@app.command("bootstrap")
def bootstrap(
    name: str,
    cpu: Annotated[bool, typer.Option("--cpu", help="CPU onnxruntime (a box without a GPU).")] = False,
    system_site_packages: Annotated[
        bool, typer.Option(help="Let the venv see the image's CUDA torch.")
    ] = False,
    accept_fingerprint: AcceptOption = None,
) -> None:
    """Install the engine on the host (idempotent: run it again to resume or check)."""
    options = BootstrapOptions(onnxruntime="cpu" if cpu else "gpu", system_site_packages=system_site_packages)

    def show(i: int, n: int, step: str, state: str) -> None:
        if state != "running":
            out.print(f"[{i}/{n}] {step}: {state}")

    with open_host(name, accept_fingerprint) as (conn, plan):
        Bootstrap(conn, plan, options, progress=show).run()
    out.print(f"host {name} is ready: `layer hosts connect {name}`")


@app.command("connect")
def connect(name: str, accept_fingerprint: AcceptOption = None) -> None:
    """Start the host's engine (or find the running one); it keeps running after this command."""
    profile = HostStore().get(name)
    with open_host(name, accept_fingerprint) as (conn, plan):
        rt = ensure_engine(conn, plan, idle_stop_s=profile.idle_stop_minutes * 60,
                           max_lifetime_s=profile.max_lifetime_hours * 3600)  # fmt: skip
    how = "started" if rt.started else "running"
    out.print(f"engine {rt.version} {how} on {name} (pid {rt.pid}); use it with --engine host:{name}")


@app.command("disconnect")
def disconnect(name: str) -> None:
    """Stop the host's engine (finished chunks of a running job are kept)."""
    with open_host(name) as (conn, plan):
        stopped = stop_engine(conn, plan)
    out.print(f"engine on {name} stopped" if stopped else f"no engine was running on {name}")


@app.command("logs")
def logs(name: str, lines: Annotated[int, typer.Option("-n", "--lines")] = 40) -> None:
    """The host's engine and bootstrap logs (last lines)."""
    with open_host(name) as (conn, plan):
        for path in (plan.engine_log, plan.console_log, f"{plan.work_dir}/logs/bootstrap.log"):
            text = conn.run(f"tail -n {int(lines)} {q(path)} 2>/dev/null || echo '(none)'").out
            out.print(f"[bold]== {path}[/]\n{text}")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="hosts")
