"""`layer probe|thumbs|render`: the media engine from the command line."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the media commands to the top-level app."""
