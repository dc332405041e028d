"""`layer persona ...` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="persona commands.", no_args_is_help=True)
