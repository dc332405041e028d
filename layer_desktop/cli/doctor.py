"""`layer doctor [--json]`: what works and what does not, layer by layer, with what to do."""

from __future__ import annotations

import typer

from layer_desktop.cli.common import out
from layer_desktop.doctor import run_checks
from layer_desktop.doctor.registry import all_checks

_COLOUR = {"ok": "green", "warn": "yellow", "fail": "red", "skip": "dim", "crash": "magenta"}


def doctor(as_json: bool = typer.Option(False, "--json", help="Machine-readable report.")) -> None:
    """Check every layer of the app; exit status 1 when any check fails or crashes."""
    report = run_checks(all_checks())
    if as_json:
        print(report.to_json())
    else:
        for f in report.findings:
            out.print(
                f"[{_COLOUR[f.status]}]{f.status:>5}[/] {f.name}: {f.summary}",
                highlight=False,
                soft_wrap=True,
            )
            for key, value in f.details.items():
                out.print(f"        {key}: {value}", highlight=False, soft_wrap=True)
            if f.hint:
                out.print(f"        [yellow]fix:[/] {f.hint}", highlight=False, soft_wrap=True)
    if not report.ok:
        raise typer.Exit(1)


def display_probe() -> None:
    """Start a QGuiApplication and print its platform (the doctor runs this in a child process)."""
    from layer_desktop.doctor.local_checks import DISPLAY_PROBE

    exec(compile(DISPLAY_PROBE, "display-probe", "exec"), {})


def register(app: typer.Typer) -> None:
    app.command("doctor")(doctor)
    app.command("display-probe", hidden=True)(display_probe)
