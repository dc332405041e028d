"""`layer talk batch`: placeholder registered by ``cli.talk`` (filled in below)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    return None
