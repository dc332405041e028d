"""`layer models ...`: list, fetch, import, verify and remove models; licences are shown with each."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import TaskID
from rich.table import Table

from layer_desktop.cli.common import console, out, progress_bar
from layer_desktop.engine.models import ModelSpec, ModelStatus, ModelStore
from layer_desktop.errors import LayerError, ModelError

app = typer.Typer(
    help="Models: list them with their licences, fetch (resumable, verified), import, verify, remove.",
    no_args_is_help=True,
)

_PRESENCE_STYLE = {"shipped": "green", "installed": "green", "partial": "yellow", "missing": "dim"}


def _size(n: int | None) -> str:
    if n is None:
        return "?"
    return f"{n / 1e6:.1f} MB" if n >= 100_000 else f"{n / 1e3:.0f} kB"


def _licence(spec: ModelSpec) -> str:
    text = spec.licence.summary()
    return text if spec.licence.commercial_use else f"[bold red]{text}[/]"


def _commercial(spec: ModelSpec) -> str:
    return "yes" if spec.licence.commercial_use else "[bold red]NO[/]"


def _presence(status: ModelStatus) -> str:
    label: str = status.presence
    if status.presence == "partial":
        label = f"partial ({_size(status.bytes_on_disk)})"
    return f"[{_PRESENCE_STYLE[status.presence]}]{label}[/]"


@app.command("list")
def list_models() -> None:
    """Every model in the manifest: task, backend, size, licence and whether it is on disk."""
    table = Table(title="Models")
    table.add_column("id", overflow="fold")
    for column in ("task", "backend", "size", "licence", "commercial use", "status"):
        table.add_column(column)
    for status in ModelStore().statuses():
        spec = status.spec
        marks = [f"default {', '.join(spec.defaults)}"] if spec.defaults else []
        marks += [f"pairs with {', '.join(spec.pairs_with)}"] if spec.pairs_with else []
        task = spec.task + (f" ({'; '.join(marks)})" if marks else "")
        table.add_row(
            spec.id,
            task,
            spec.backend,
            _size(spec.size),
            spec.licence.name,
            _commercial(spec),
            _presence(status),
        )
    out.print(table)


def _show_licence(spec: ModelSpec) -> None:
    console.print(f"{spec.id}: licence {_licence(spec)}")
    if not spec.licence.commercial_use:
        console.print("[yellow]This model may not be used commercially.[/]")


@app.command()
def fetch(model_id: Annotated[str, typer.Argument(help="Model id, see `layer models list`.")]) -> None:
    """Download a model (resuming an interrupted download) and verify its sha256."""
    store = ModelStore()
    spec = store.manifest.get(model_id)
    _show_licence(spec)
    with progress_bar(f"Fetching {spec.id}", spec.size) as (progress, task):

        def report(done: int, total: int | None) -> None:
            progress.update(TaskID(task), completed=done, total=total)

        path = store.fetch(model_id, progress=report)
    out.print(f"{spec.id}: verified, installed at {path}")


@app.command("import")
def import_model(
    model_id: Annotated[str, typer.Argument(help="Model id, see `layer models list`.")],
    file: Annotated[Path, typer.Argument(help="A copy of the model you already have.")],
) -> None:
    """Copy a model file you already have into the models folder, after checking its sha256."""
    store = ModelStore()
    _show_licence(store.manifest.get(model_id))
    path = store.import_file(model_id, file)
    out.print(f"{model_id}: verified, installed at {path}")


@app.command()
def verify(
    model_id: Annotated[str | None, typer.Argument(help="One model; all present models if left out.")] = None,
) -> None:
    """Re-hash installed models against the manifest; a bad file is moved to quarantine."""
    store = ModelStore()
    ids = [model_id] if model_id else [s.spec.id for s in store.statuses() if s.present]
    failed = 0
    for mid in ids:
        try:
            store.verify(mid)
        except LayerError as exc:
            failed += 1
            console.print(f"[bold red]{mid}: FAILED[/] {exc.message}")
            continue
        out.print(f"{mid}: OK")
    if not ids:
        out.print("No models are installed.")
    if failed:
        raise ModelError(
            f"{failed} of {len(ids)} model(s) failed verification.",
            hint="Fetch them again with `layer models fetch ID`, or import the right files.",
        )


@app.command()
def remove(model_id: Annotated[str, typer.Argument(help="Model id.")]) -> None:
    """Delete an installed model (and any partial download)."""
    if ModelStore().remove(model_id):
        out.print(f"{model_id}: removed")
    else:
        out.print(f"{model_id}: was not installed")
