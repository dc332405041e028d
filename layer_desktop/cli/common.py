"""Shared pieces of the CLI: the console, error printing, progress bars."""

from __future__ import annotations

import errno
import logging
import os
import traceback
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

from layer_desktop.errors import LayerError
from layer_desktop.paths import app_paths

console = Console(stderr=True)
out = Console()


def run_cli(app: typer.Typer, argv: list[str] | None) -> int:
    """Run a typer app, turning a ``LayerError`` into a clean message and exit status 2."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        # Without standalone mode click *returns* the code of a typer.Exit instead of raising it.
        code = app(args=argv, standalone_mode=False)
    except LayerError as exc:
        # the texts are not markup: "layer-desktop[cluster]" must print as it is
        console.print(f"[bold red]Error:[/] {escape(exc.message)}")
        console.print(f"[yellow]What to do:[/] {escape(exc.hint)}")
        return 2
    except ValidationError as exc:  # a spec built from the options refused a combination of them
        console.print(f"[bold red]Error:[/] {validation_text(exc)}")
        console.print("[yellow]What to do:[/] Fix that option (see --help) and run the command again.")
        return 2
    except typer.Exit as exc:
        return int(exc.exit_code or 0)
    except typer.Abort:
        console.print("Aborted.")
        return 130
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
            return _unexpected(exc)
        console.print(f"[bold red]Error:[/] The disk is full ({exc.filename or exc.strerror}).")
        console.print(
            "[yellow]What to do:[/] Free disk space and run the command again (finished work is kept)."
        )
        return 2
    except KeyboardInterrupt:
        console.print("Interrupted: finished work is kept; run the same command again to resume.")
        return 130
    except Exception as exc:  # click usage errors carry their own exit code
        code = getattr(exc, "exit_code", None)
        if code is not None and hasattr(exc, "show"):
            exc.show()
            return int(code)
        return _unexpected(exc)
    return code if isinstance(code, int) else 0  # a typer.Exit's code, returned in this mode


def validation_text(exc: ValidationError) -> str:
    """The first problem of a pydantic error as one line: ``field: message``."""
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"])
    return f"{where}: {err['msg']}" if where else str(err["msg"])


def _unexpected(exc: Exception) -> int:
    # a bug of ours, not the user's input: the traceback goes to a log file, not the terminal
    where = "the log"
    try:
        folder = app_paths().log_dir
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "cli-errors.log"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a") as fh:
            fh.write("".join(traceback.format_exception(exc)) + "\n")
        where = str(path)
    except OSError:
        pass
    console.print(f"[bold red]Unexpected error:[/] {type(exc).__name__}: {exc}")
    console.print(f"[yellow]What to do:[/] Send {where} to support.")
    return 1


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
