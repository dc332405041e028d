"""`--engine URL` for the job commands, and `layer engine status|jobs|cancel`: the same work done by a
running engine service (local child, remote GPU through its tunnel) instead of in this process.

The token is never an argument (argv is visible to every user): it comes from ``LAYER_ENGINE_TOKEN``,
or, for an engine on this machine, from the engine home's owner-only token file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlparse

import typer
from rich.table import Table

from layer_desktop.cli.common import out, progress_bar
from layer_desktop.engine.client import Endpoint, EngineClient
from layer_desktop.engine.download_name import download_target
from layer_desktop.engine.media.preflight import check_place
from layer_desktop.engine.pipeline import TransformReport, TransformSpec
from layer_desktop.engine.server.home import TOKEN_ENV, EngineHome
from layer_desktop.engine.server.schemas import JobEvent, JobInfo
from layer_desktop.errors import EngineAuthError, InputError

app = typer.Typer(help="Talk to a running engine service.", no_args_is_help=True)


def _engine_choice(value: str | None) -> str | None:
    """``local`` (or nothing): this process; ``host:NAME``: the engine on a GPU host; ``cluster:ADDRESS``:
    a Ray cluster; else a URL."""
    if value is not None and value.startswith("cluster:") and not value.removeprefix("cluster:"):
        raise typer.BadParameter(
            "cluster: needs a name or an address: cluster:NAME (`layer cluster up`), cluster:local, "
            "cluster:auto or cluster:ray://HOST:PORT"
        )
    return None if value in (None, "", "local") else value


EngineOption = Annotated[
    str | None,
    typer.Option("--engine", help="Where to run: local, host:NAME (a GPU host, see `layer hosts`), "
                 "cluster:NAME (see `layer cluster`) or cluster:ADDRESS (local, auto, ray://HOST:PORT) for a "
                 "Ray cluster (transforms only), or "
                 "an engine URL (e.g. http://127.0.0.1:8765).", envvar="LAYER_ENGINE_URL",
                 callback=_engine_choice),
]  # fmt: skip


def engine_token(url: str, home: EngineHome | None = None) -> str:
    """The token for ``url``: ``$LAYER_ENGINE_TOKEN``, or the local engine's token file when the URL
    is that engine's. Raises ``EngineAuthError`` when neither applies."""
    if token := os.environ.get(TOKEN_ENV):
        return token
    home = home or EngineHome.default()
    state = home.read_state() or {}
    parsed = urlparse(url)
    if parsed.hostname in ("127.0.0.1", "localhost") and parsed.port == state.get("port"):
        return home.read_token()
    raise EngineAuthError(
        f"No token for the engine at {url}.",
        hint=f"Set {TOKEN_ENV} to the token in the engine's state folder (its 'token' file).",
    )


@contextmanager
def connect(url: str) -> Iterator[EngineClient]:
    """A client of the engine at ``url``, or of a GPU host's engine (``host:NAME``, through its tunnel)."""
    if url.startswith("host:"):
        from layer_desktop.remote.ssh.hosts import HostStore
        from layer_desktop.remote.ssh.session import RemoteEngine

        with RemoteEngine(HostStore().get(url[5:])) as remote, remote.client() as client:
            yield client
        return
    if url.startswith("cluster:"):  # a cluster formed from GPU hosts: its head's engine drives it
        from layer_desktop.engine.cluster import registry
        from layer_desktop.remote.ssh.cluster import head_engine

        with head_engine(registry.load(url[8:])) as remote, remote.client() as client:
            yield client
        return
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise InputError(
            f"'{url}' is not an engine URL.", hint="Use local, host:NAME or http://127.0.0.1:PORT."
        )
    with EngineClient(Endpoint(url.rstrip("/"), engine_token(url))) as client:
        yield client


def follow(client: EngineClient, job: JobInfo, description: str) -> JobInfo:
    """Follow a job's events with a progress bar; returns its final state (raises ``JobFailedError``)."""
    with progress_bar(description, None) as (bar, task):
        workers: set[str] = set()

        def show(event: JobEvent) -> None:
            if event.type == "chunk":  # a cluster job: which workers are rendering
                workers.add(f"{event.data['worker']}@{event.data['node']}")
            if event.type == "progress":
                label = "Finding faces" if event.data["stage"] == "analyse" else "Rendering"
                if workers and label == "Rendering":
                    label += f" on {len(workers)} workers"
                bar.update(task, description=label, completed=event.data["done"], total=event.data["total"])

        return client.wait(job.job_id, on_event=show)


def report_of(info: JobInfo, output: Path) -> TransformReport:
    data: dict[str, Any] = dict(info.report or {})
    data["output"] = str(output)
    return TransformReport(**data)


def run_remote(url: str, spec: TransformSpec) -> TransformReport:
    """Submit ``spec`` to the engine at ``url``, follow it, download the result to ``spec.output``."""
    check_place(Path(spec.output), (Path(spec.source),))
    with connect(url) as client:
        job = client.submit_transform(spec)
        out.print(f"job {job.job_id} submitted to {url}")
        info = follow(client, job, "Queued")
        client.download(job.job_id, spec.output)
    return report_of(info, Path(spec.output))


def rerender_remote(url: str, job_id: str, first: int, last: int, changes: dict[str, str],
                    output: Path | None) -> TransformReport:  # fmt: skip
    if output is not None:
        check_place(output, ())
    with connect(url) as client:
        job = client.rerender(job_id, first, last, changes)
        info = follow(client, job, f"Re-rendering frames {first}-{last}")
        # never a path the engine chose: its name only as a suggestion, inside the current folder
        target = output or download_target(Path.cwd(), info.output_name, "layer-result.mp4")
        check_place(target, ())
        client.download(job_id, target)
    return report_of(info, target)


def remote_records(url: str, job_id: str) -> list[dict[str, Any]]:
    with connect(url) as client:
        return client.records(job_id)


@app.command("status")
def status(engine: EngineOption = None) -> None:
    """The engine's version, devices, active ONNX Runtime providers, models and backends."""
    with connect(_need(engine)) as client:
        caps = client.capabilities()
    out.print_json(caps.model_dump_json())


@app.command("jobs")
def jobs(engine: EngineOption = None, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """The engine's jobs, oldest first."""
    with connect(_need(engine)) as client:
        listed = client.jobs()
    if as_json:
        out.print_json(json.dumps([j.model_dump() for j in listed]))
        return
    table = Table(title=f"{len(listed)} job(s)")
    for column in ("job", "state", "stage", "progress", "output"):
        table.add_column(column)
    for j in listed:
        table.add_row(j.job_id, j.state, j.stage or "-", f"{j.done}/{j.total}", j.output_name)
    out.print(table)


@app.command("cancel")
def cancel(job: str, engine: EngineOption = None) -> None:
    """Cancel a job (finished chunks are kept; submitting it again resumes)."""
    with connect(_need(engine)) as client:
        info = client.cancel(job)
    out.print(f"job {info.job_id}: {info.state}")


def _need(engine: str | None) -> str:
    if not engine:
        raise InputError("Which engine?", hint="Pass --engine URL or set LAYER_ENGINE_URL.")
    return engine


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="engine")
