"""`run_cli`: a LayerError becomes a message, what to do, and exit status 2."""

from __future__ import annotations

import pytest
import typer

from layer_desktop.cli.common import run_cli
from layer_desktop.errors import InputError


def test_an_error_prints_its_message_and_hint_as_written_not_as_markup(
    capsys: pytest.CaptureFixture[str],
) -> None:
    app = typer.Typer()

    @app.command()
    def fail() -> None:
        raise InputError("No [bold]face[/] in x[1].png.", hint="pip install 'layer-desktop[cluster]'")

    assert run_cli(app, []) == 2
    printed = capsys.readouterr().err
    assert "No [bold]face[/] in x[1].png." in printed
    assert "pip install 'layer-desktop[cluster]'" in printed
