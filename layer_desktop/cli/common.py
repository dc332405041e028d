"""Shared pieces of the CLI: the console, error printing, progress bars."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

from layer_desktop.errors import LayerError

console = Console(stderr=True)
out = Console()


def run_cli(app: typer.Typer, argv: list[str] | None) -> int:
    """Run a typer app, turning a ``LayerError`` into a clean message and exit status 2."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        # Without standalone mode click *returns* the code of a typer.Exit instead of raising it.
        code = app(args=argv, standalone_mode=False)
    except LayerError as exc:
        console.print(f"[bold red]Error:[/] {exc.message}")
        console.print(f"[yellow]What to do:[/] {exc.hint}")
        return 2
    except typer.Exit as exc:
        return int(exc.exit_code or 0)
    except typer.Abort:
        console.print("Aborted.")
        return 130
    except KeyboardInterrupt:
        console.print("Interrupted: finished work is kept; run the same command again to resume.")
        return 130
    except Exception as exc:  # click usage errors carry their own exit code
        code = getattr(exc, "exit_code", None)
        if code is not None and hasattr(exc, "show"):
            exc.show()
            return int(code)
        raise
    return code if isinstance(code, int) else 0  # a typer.Exit's code, returned in this mode


@contextmanager
def progress_bar(description: str, total: float | None) -> Iterator[tuple[Progress, int]]:
    """A rich progress bar on stderr; yields (progress, task id)."""
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    ) as progress:
        task = progress.add_task(description, total=total)
        yield progress, task
