"""`layer talk batch CATALOGUE -o DIR`: one talking-head video per product of a CSV or JSON catalogue,
published as each finishes with ``--publish DESTINATION``; resumable, cached, with a CSV/JSON report.
``--engine cluster:ADDRESS`` renders several products at once on a Ray cluster (-o on storage its
workers share); publishing still happens here."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from layer_desktop.cli.common import console, out
from layer_desktop.cli.engine import EngineOption
from layer_desktop.engine.client import EngineClient
from layer_desktop.engine.media.domain import Preset
from layer_desktop.engine.pipeline.spec import Disclosure, Output
from layer_desktop.engine.talking.batch import (
    BatchOptions,
    BatchResult,
    BatchRow,
    Publisher,
    run_batch,
    write_report,
)
from layer_desktop.engine.talking.batch_render import Executor, Renderer
from layer_desktop.engine.talking.catalogue import (
    DEFAULT_KEY,
    DEFAULT_TEMPLATE,
    KEY_FIELDS,
    SCRIPT_CAP,
    SCRIPT_FIELDS,
    check_template,
    read_catalogue,
)
from layer_desktop.engine.talking.spec import TalkSpec, parse_size
from layer_desktop.errors import InputError

EXIT_PARTIAL = 3
EXIT_CODES = (
    f"Exit status: 0 every product made (or already finished); {EXIT_PARTIAL} partial: some products "
    "failed (see the report), the others were made and published; 2 nothing could be made."
)


def _publisher(name: str) -> Publisher:
    from layer_desktop.remote.storage.key_publisher import key_publisher

    return key_publisher(name)  # an unknown destination stops the batch before any work


def _on_engine(client: EngineClient) -> Renderer:
    """Each product's video made by the engine behind ``client`` (a GPU box), downloaded to its place."""
    from layer_desktop.engine.talking.remote import submit_talk

    def render(spec: TalkSpec) -> None:
        job = submit_talk(client, spec)
        client.wait(job.job_id)  # raises JobFailedError with the engine's reason and hint
        client.download(job.job_id, spec.output)

    return render


def _batch_address(engine: str) -> str:
    """The Ray address of ``cluster:…`` for a batch: a cluster on this machine or at an address (a batch
    writes its videos where every worker reads and writes them)."""
    from layer_desktop.cli.cluster import cluster_address, cluster_on_hosts

    if cluster_on_hosts(engine):
        raise InputError(
            f"{engine} is formed from GPU hosts: a catalogue batch renders on a cluster on this machine or "
            "at a Ray address, with -o on storage every worker shares.",
            hint="Send the batch to the head host's engine with --engine host:HEAD instead.",
        )
    return cluster_address(engine)


def _on_cluster(address: str) -> Executor:
    """Several products at once on the Ray cluster at ``address`` (local, auto, ray://HOST:PORT); its
    workers write the videos under -o (storage they share), and they are published from here."""
    from layer_desktop.engine.cluster.runner import ClusterOptions
    from layer_desktop.engine.cluster.talk import talk_on_cluster

    return talk_on_cluster(ClusterOptions(address=address))


def _template(value: str | None) -> str:
    if value is None:
        return DEFAULT_TEMPLATE
    path = Path(value)
    text = path.read_text(encoding="utf-8") if path.is_file() else value
    check_template(text, SCRIPT_FIELDS, "script")
    return text


def _show(row: BatchRow, number: int, total: int) -> None:
    where = f" → {row.url}" if row.url else ""
    if row.status == "failed":
        console.print(f"[{number}/{total}] {row.product}: [red]failed[/] {row.error}")
    else:
        console.print(f"[{number}/{total}] {row.product}: {row.status} {row.key}{where}")


def _summary(result: BatchResult, reports: list[Path]) -> None:
    table = Table(title=f"{len(result.rows)} product(s): {result.failed} failed")
    for column in ("product", "status", "key / error", "link"):
        table.add_column(column, overflow="fold")
    for r in result.rows:
        table.add_row(r.product, r.status, r.error if r.status == "failed" else r.key, r.url)
    out.print(table)
    out.print(
        f"rendered {result.rendered}, uploaded {result.uploaded}; report: {', '.join(map(str, reports))}"
    )


def batch(
    catalogue: Annotated[Path, typer.Argument(help="products.csv or products.json.")],
    out_dir: Annotated[Path, typer.Option("-o", "--out-dir", help="Folder for the videos (keys below it).")],
    org: Annotated[str, typer.Option(help="Organisation: the {org} of the key template.")] = "default",
    key_template: Annotated[str, typer.Option(help=f"Object key / path: fields {', '.join(KEY_FIELDS)}.")] = (
        DEFAULT_KEY
    ),
    script_template: Annotated[
        str | None,
        typer.Option(
            help=f"Text or a file writing empty scripts from {{name}}, {{description}} "
            f"(default '{DEFAULT_TEMPLATE}'); scripts are capped at {SCRIPT_CAP} characters."
        ),
    ] = None,
    voice: Annotated[str, typer.Option(help="eSpeak NG voice for products without one.")] = "en",
    size: Annotated[str | None, typer.Option(help="N (square) or WxH; default from each photo.")] = None,
    motion: Annotated[float, typer.Option(help="Head motion amount.", min=0.0, max=2.0)] = 1.0,
    preset: Annotated[Preset, typer.Option(help="Encoder speed preset.")] = "veryfast",
    publish_to: Annotated[
        str | None,
        typer.Option("--publish", help="Destination (see `layer destinations`) to upload each video to."),
    ] = None,
    report: Annotated[
        Path | None, typer.Option(help="Report file (.csv or .json); default both in -o.")
    ] = None,
    engine: EngineOption = None,
) -> None:
    """Render a talking-head video for every product of CATALOGUE (columns: product id, name,
    description, image or persona, script, voice). Running it again skips finished products."""
    if size is not None:
        try:
            parse_size(size)
        except ValueError as exc:
            raise InputError(f"{exc}.", hint="Give --size 512 or --size 1280x720.") from None
    check_template(key_template, KEY_FIELDS, "key")
    publisher = _publisher(publish_to) if publish_to else None
    products = read_catalogue(catalogue)
    settings = {"size": size, "motion": motion, "disclosure": Disclosure().model_dump(),
                "output_settings": Output(preset=preset).model_dump()}  # fmt: skip
    options = BatchOptions(
        out_dir=out_dir, org=org, key_template=key_template, script_template=_template(script_template),
        voice=voice, destination=publish_to, settings=settings,
    )  # fmt: skip
    if engine and engine.startswith("cluster:"):
        result = run_batch(products, options, publisher=publisher, on_row=_show,
                           executor=_on_cluster(_batch_address(engine)))  # fmt: skip
    elif engine:
        from layer_desktop.cli.engine import connect

        with connect(engine) as client:
            result = run_batch(products, options, publisher=publisher, on_row=_show,
                               renderer=_on_engine(client))  # fmt: skip
    else:
        result = run_batch(products, options, publisher=publisher, on_row=_show)
    reports = [report] if report else [out_dir / "report.csv", out_dir / "report.json"]
    for path in reports:
        write_report(result, path)
    _summary(result, reports)
    if result.failed == len(result.rows):
        raise typer.Exit(2)
    if result.failed:
        raise typer.Exit(EXIT_PARTIAL)


def register(app: typer.Typer) -> None:
    app.command("batch", help=f"Render a video per product of a catalogue. {EXIT_CODES}")(batch)
