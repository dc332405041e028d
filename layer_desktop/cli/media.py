"""`layer probe|thumbs|render`: the media engine from the command line."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import cv2
import typer
from rich.table import Table

from layer_desktop.cli.common import out, progress_bar
from layer_desktop.engine.media.domain import CHUNK_FRAMES_MAX, CHUNK_FRAMES_MIN, CRF_MAX, CRF_MIN, Preset
from layer_desktop.engine.media.encode import Codec, FieldOrder, OutputSettings
from layer_desktop.engine.media.pipeline import Passthrough
from layer_desktop.engine.media.preflight import check_output, disk_errors, hold_output
from layer_desktop.engine.media.probe import MediaInfo, probe
from layer_desktop.engine.media.render import (
    RenderReport,
    RenderSpec,
    default_work_dir,
    render,
    rerender_range,
)
from layer_desktop.engine.media.thumbs import thumbnail_strip
from layer_desktop.engine.pipeline.spec import Output
from layer_desktop.errors import InputError


def probe_cmd(
    file: Annotated[Path, typer.Argument(help="Video or audio file.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Show container, streams, frame rate, frame count, duration, rotation and VFR of FILE."""
    info = probe(file)
    if as_json:
        out.print_json(json.dumps(info.to_dict()))
        return
    out.print(_probe_table(info))


def _probe_table(info: MediaInfo) -> Table:
    table = Table(title=str(info.path), show_header=False)
    table.add_row("container", info.container)
    table.add_row("duration", f"{info.duration:.3f} s")
    table.add_row("size", f"{info.size_bytes:,} bytes")
    if info.video:
        v = info.video
        table.add_row("video", f"{v.codec} {v.width}×{v.height} {v.pix_fmt}")
        table.add_row("frames", f"{v.frame_count} in {v.duration:.3f} s")
        table.add_row("frame rate", f"{v.avg_fps:.3f} fps avg ({v.avg_rate}); real {v.real_rate}")
        table.add_row("variable rate", "yes (VFR)" if v.vfr else "no (CFR)")
        table.add_row("rotation", f"{v.rotation}° → shown {v.display_width}×{v.display_height}")
        table.add_row(
            "colour", f"{v.color_space}/{v.color_primaries}/{v.color_transfer}, {v.color_range} range"
        )
    else:
        table.add_row("video", "none")
    if info.audio:
        a = info.audio
        table.add_row(
            "audio", f"{a.codec} {a.sample_rate} Hz {a.layout} ({a.channels} ch), {a.duration:.3f} s"
        )
    else:
        table.add_row("audio", "none")
    return table


def thumbs_cmd(
    file: Annotated[Path, typer.Argument(help="Video file.")],
    n: Annotated[int, typer.Option("-n", help="How many thumbnails.", min=1, max=10_000)] = 20,
    output: Annotated[Path, typer.Option("-o", "--output", help="Folder for the PNG files.")] = Path(
        "thumbs"
    ),
    height: Annotated[int, typer.Option(help="Thumbnail height in pixels.", min=8, max=4096)] = 90,
    exact: Annotated[bool, typer.Option(help="Exact frames instead of the nearest keyframes.")] = False,
) -> None:
    """Write N evenly spaced thumbnails of FILE as PNG files (a timeline strip)."""
    if n < 1:
        raise InputError("-n must be at least 1.")
    output.mkdir(parents=True, exist_ok=True)
    strip = thumbnail_strip(file, n, height=height, exact=exact)
    for i, thumb in enumerate(strip):
        target = output / f"thumb_{i:03d}_frame{thumb.index:06d}.png"
        cv2.imwrite(str(target), cv2.cvtColor(thumb.image, cv2.COLOR_RGB2BGR))
    out.print(f"{len(strip)} thumbnails written to {output}")


def _settings(codec: Codec, crf: int, preset: Preset, hardware: bool) -> OutputSettings:
    # the same domains as the engine API's Output model (one definition: engine.media.domain)
    Output.model_validate({"codec": codec, "crf": crf, "preset": preset})
    return OutputSettings(codec=codec, crf=crf, preset=preset, hardware=hardware)


def render_cmd(
    source: Annotated[Path, typer.Argument(help="Source video.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Output file: .mp4, .mov or .mkv.")],
    passthrough: Annotated[bool, typer.Option("--passthrough", help="Identity processing step.")] = False,
    chunk_frames: Annotated[
        int,
        typer.Option(
            help="Frames per chunk (each a closed GOP).", min=CHUNK_FRAMES_MIN, max=CHUNK_FRAMES_MAX
        ),
    ] = 60,
    codec: Annotated[Codec, typer.Option(help="h264 or hevc.")] = "h264",
    crf: Annotated[int, typer.Option(help="Quality: lower is better (0-51).", min=CRF_MIN, max=CRF_MAX)] = 18,
    preset: Annotated[Preset, typer.Option(help="Encoder speed preset.")] = "medium",
    hardware: Annotated[bool, typer.Option(help="Use NVENC when it is available.")] = True,
    audio: Annotated[str, typer.Option(help="'source', 'none', or a replacement audio file.")] = "source",
    work_dir: Annotated[Path | None, typer.Option(help="Folder for chunks and the manifest.")] = None,
    frames: Annotated[
        str | None,
        typer.Option(help="Re-render only this inclusive range (e.g. 30-40) of an earlier render."),
    ] = None,
    field_order: Annotated[
        str,
        typer.Option(help="Interlaced sources: 'progressive' (deinterlace) or 'keep' (write interlaced)."),
    ] = "progressive",
) -> None:
    """Render SOURCE to OUTPUT in resumable chunks (run it again after a crash to resume).

    With --frames, encode again only the chunks holding those frames of an earlier render and re-join.
    For persona transforms use `layer transform` / `layer rerender JOB`."""
    if not passthrough:
        raise InputError(
            "Only --passthrough renders are available from `layer render` so far.",
            hint="Add --passthrough (the persona transform job arrives with the face-swap stage).",
        )
    if field_order not in ("progressive", "keep"):
        raise InputError(f"Unknown field order '{field_order}'.", hint="Use progressive or keep.")
    fields: FieldOrder = "keep" if field_order == "keep" else "progressive"
    settings = replace(_settings(codec, crf, preset, hardware), field_order=fields)
    spec = RenderSpec(str(source), str(output), settings, chunk_frames, audio)
    wd = work_dir or default_work_dir(spec)
    extra = () if audio in ("source", "none") else (Path(audio),)
    check_output(source, output, wd, crf=crf, other_inputs=extra)  # before any work
    with hold_output(output), disk_errors(wd):
        report = _render(spec, source, wd, frames)
    _print_report(report)


def _render(spec: RenderSpec, source: Path, wd: Path, frames: str | None) -> RenderReport:
    if frames is not None:
        first, last = frame_range(frames)
        with progress_bar(f"Re-rendering frames {first}-{last}", None) as (bar, task):
            return rerender_range(spec, first, last, Passthrough(), work_dir=wd, progress=_updater(bar, task))
    with progress_bar(f"Rendering {source.name}", None) as (bar, task):
        return render(spec, Passthrough(), work_dir=wd, progress=_updater(bar, task))


def frame_range(frames: str) -> tuple[int, int]:
    try:
        first, last = (int(x) for x in frames.split("-", 1))
    except ValueError:
        raise InputError(
            f"'{frames}' is not a frame range.", hint="Write it as FIRST-LAST, e.g. 30-40."
        ) from None
    if last < first or first < 0:
        raise InputError(f"'{frames}' is not a frame range.", hint="FIRST must be ≤ LAST, both ≥ 0.")
    return first, last


def _updater(bar: object, task: int) -> object:
    def update(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total)  # type: ignore[attr-defined]

    return update


def _print_report(report: RenderReport) -> None:
    out.print(
        f"Wrote {report.output}: {report.frames} frames in {report.seconds:.1f} s with {report.encoder}"
    )
    out.print(f"chunks: {len(report.encoded)} encoded, {len(report.reused)} reused of {report.chunks}")
    if report.fallback_reason:
        out.print(f"[dim]hardware encoder not used: {report.fallback_reason}[/]")
    for note in report.notes:
        out.print(f"note: {note}")


def register(app: typer.Typer) -> None:
    """Add the media commands to the top-level app."""
    app.command("probe")(probe_cmd)
    app.command("thumbs")(thumbs_cmd)
    app.command("render")(render_cmd)
