"""`layer`: the command line for everything the GUI does.

Each command group lives in its own module and is registered here. A ``LayerError`` reaching the top
is printed as its message and hint (no traceback) and exits with status 2.
"""

from __future__ import annotations

import logging
import sys

import typer

from layer_desktop.cli import (
    cluster,
    doctor,
    engine,
    faces,
    hosts,
    lipsync,
    media,
    models,
    persona,
    provenance,
    publish,
    talk,
    transform,
    voice,
)
from layer_desktop.cli.common import console, run_cli
from layer_desktop.errors import LayerError

app = typer.Typer(
    name="layer",
    help="Layer Desktop from the command line.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
media.register(app)
transform.register(app)
app.add_typer(faces.app, name="faces")
app.add_typer(models.app, name="models")
app.add_typer(persona.app, name="persona")
publish.register(app)
voice.register(app)
engine.register(app)
lipsync.register(app)
provenance.register(app)
doctor.register(app)
hosts.register(app)
cluster.register(app)
talk.register(app)


def main(argv: list[str] | None = None) -> int:
    """Entry point of `layer`; returns the exit status."""
    return run_cli(app, argv)


__all__ = ["LayerError", "app", "console", "logging", "main", "sys"]
