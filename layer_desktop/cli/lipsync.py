"""`layer lipsync` (the mouth follows new audio) and `layer sync-check` (audio/video offset of any file)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from layer_desktop.cli.common import console, out
from layer_desktop.engine.lipsync.options import BACKENDS, LipSyncBackendName, LipSyncOptions
from layer_desktop.engine.lipsync.phonemes import read_labels
from layer_desktop.engine.lipsync.sync import SyncWindow, overall
from layer_desktop.engine.lipsync.video import lipsync_video, sync_check
from layer_desktop.engine.models.manifest import ModelSpec
from layer_desktop.errors import InputError


def _licence(spec: ModelSpec) -> None:
    console.print(f"[bold red]{spec.id}: licence {spec.licence.summary()}[/]")


def lipsync_cmd(
    video: Annotated[Path, typer.Option("--video", help="The video whose mouth is moved.")],
    audio: Annotated[Path, typer.Option("--audio", help="The audio the mouth should say.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The video to write.")],
    backend: Annotated[
        LipSyncBackendName, typer.Option(help="mouth (offline), wav2lip, edtalk, …")
    ] = "mouth",
    transcript: Annotated[
        str | None, typer.Option(help="What is said (English): phonemes are aligned to it.")
    ] = None,
    phones: Annotated[
        Path | None, typer.Option(help="A phone label file (START END PHONE per line) for the audio.")
    ] = None,
    strength: Annotated[float, typer.Option(min=0.0, max=1.0)] = 1.0,
    face: Annotated[str, typer.Option(help="auto, track:N or X,Y@FRAME.")] = "auto",
) -> None:
    """Make the mouth in VIDEO say what AUDIO says; AUDIO becomes the sound (fitted to the video)."""
    options = LipSyncOptions(enabled=True, backend=backend, strength=strength, transcript=transcript)
    labels = read_labels(phones) if phones else ()
    with console.status("lip-sync: analysing and rendering…"):
        report = lipsync_video(video, audio, output, options, phonemes=labels, face=face, on_licence=_licence)
    out.print(f"wrote {report.output}: {report.changed} of {report.frames} frames changed ({report.backend})")
    _print_windows(report.windows)


def sync_check_cmd(
    video: Annotated[Path, typer.Argument(help="Any video with a face and sound.")],
    face: Annotated[str, typer.Option(help="auto, track:N or X,Y@FRAME.")] = "auto",
) -> None:
    """Audio/video offset (frames; + means the sound is late) and confidence per 4–8 s window."""
    _print_windows(sync_check(video, face))


def _print_windows(windows: tuple[SyncWindow, ...] | list[SyncWindow]) -> None:
    table = Table(title="A/V sync (mouth opening vs loudness)")
    for column in ("frames", "offset", "confidence"):
        table.add_column(column)
    for w in windows:
        table.add_row(f"{w.start}–{w.stop - 1}", f"{w.offset:+d}", f"{w.confidence:.2f}")
    out.print(table)
    offset, confidence = overall(list(windows))
    out.print(f"offset {offset:+d} frames, confidence {confidence:.2f}")


def lipsync_fields(
    backend: str, audio: Path | None, script: str | None, transcript: str | None
) -> dict[str, Any]:
    """The transform spec's fields for `layer transform --lipsync/--audio/--script/--transcript`.
    Raises ``InputError`` for an unknown backend or a script without lip-sync."""
    fields: dict[str, Any] = {}
    if audio is not None:
        fields["audio"] = str(audio)
    if backend == "off":
        if script:
            raise InputError("--script needs lip-sync on.", hint="Add --lipsync mouth.")
        return fields
    if backend not in BACKENDS:
        raise InputError(f"Unknown lip-sync backend '{backend}'.", hint=f"Use off, {', '.join(BACKENDS)}.")
    fields["lipsync"] = {"enabled": True, "backend": backend, "script": script, "transcript": transcript}
    return fields


def register(root: typer.Typer) -> None:
    """Add `layer lipsync` and `layer sync-check` to the top-level app."""
    root.command("lipsync")(lipsync_cmd)
    root.command("sync-check")(sync_check_cmd)
