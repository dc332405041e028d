"""`layer transform|demo|review|rerender`: the persona transform job from the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.table import Table

from layer_desktop.cli.cluster import cluster_address, cluster_on_hosts
from layer_desktop.cli.common import out, progress_bar
from layer_desktop.cli.engine import EngineOption, remote_records, rerender_remote, run_remote
from layer_desktop.cli.lipsync import lipsync_fields
from layer_desktop.cli.media import frame_range
from layer_desktop.engine.media.domain import CHUNK_FRAMES_MAX, CHUNK_FRAMES_MIN, CRF_MAX, CRF_MIN, Preset
from layer_desktop.engine.personas import PersonaStore
from layer_desktop.engine.pipeline import (
    Disclosure,
    Output,
    TransformReport,
    TransformSpec,
    load_job,
    rerender_job,
    run_transform,
)
from layer_desktop.engine.pipeline.demo import demo_content, ensure_demo_persona
from layer_desktop.engine.pipeline.job import Progress
from layer_desktop.engine.pipeline.records import FrameRecord
from layer_desktop.engine.pipeline.spec import FACE_FORMS, parse_face
from layer_desktop.engine.swap import SwapOptions
from layer_desktop.engine.swap.options import SwapBackendName
from layer_desktop.errors import InputError
from layer_desktop.paths import app_paths


def _bar_progress(bar: object, task: int) -> Progress:
    def update(stage: str, done: int, total: int) -> None:
        label = "Finding faces" if stage == "analyse" else "Rendering"
        bar.update(task, description=label, completed=done, total=total)  # type: ignore[attr-defined]

    return update


def _run(spec: TransformSpec, engine: str | None = None) -> TransformReport:
    if engine and engine.startswith("cluster:") and not cluster_on_hosts(engine):
        from layer_desktop.engine.cluster.runner import ClusterOptions, run_transform_on_cluster

        options = ClusterOptions(address=cluster_address(engine))
        with progress_bar("Starting", None) as (bar, task):
            return run_transform_on_cluster(spec, options, progress=_bar_progress(bar, task))
    if engine:
        return run_remote(engine, spec)
    with progress_bar("Starting", None) as (bar, task):
        return run_transform(spec, progress=_bar_progress(bar, task))


def _print_report(r: TransformReport) -> None:
    out.print(f"Wrote {r.output}")
    out.print(f"job {r.job_id}: {r.swapped} of {r.frames} frames swapped with {r.encoder}")
    out.print(f"chunks: {r.chunks_encoded} encoded, {r.chunks_reused} reused")
    if r.flagged:
        flags = ", ".join(f"{k} {v}" for k, v in sorted(r.flagged.items()))
        out.print(f"flagged for review: {flags} (see `layer review {r.job_id}`)")
    if r.fallback_reason:
        out.print(f"[dim]hardware encoder not used: {r.fallback_reason}[/]")
    for note in r.notes:
        out.print(f"note: {note}")


WatermarkOption = Annotated[
    bool,
    typer.Option(
        "--watermark/--no-watermark",
        help="Hide the job id's hash in the frames, invisibly (`layer provenance check`); on by default.",
    ),
]


def transform(
    persona: Annotated[str, typer.Option("--persona", help="Persona name or id.")],
    video: Annotated[Path, typer.Option("--video", help="Source video.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Output MP4.")],
    backend: Annotated[
        SwapBackendName, typer.Option(help="Swap backend: landmark (offline) or inswapper.")
    ] = "landmark",
    face: Annotated[str, typer.Option(help=f"Which face: {FACE_FORMS}.")] = "auto",
    detector: Annotated[
        Literal["auto", "short", "full"],
        typer.Option(help="auto (faces from ~24 px up), short (near the camera) or full (far)."),
    ] = "auto",
    crf: Annotated[int, typer.Option(help="Quality: lower is better (0-51).", min=CRF_MIN, max=CRF_MAX)] = 18,
    preset: Annotated[Preset, typer.Option(help="Encoder speed preset.")] = "medium",
    chunk_frames: Annotated[
        int,
        typer.Option(
            help="Frames per chunk (each a closed GOP).", min=CHUNK_FRAMES_MIN, max=CHUNK_FRAMES_MAX
        ),
    ] = 60,
    no_mark: Annotated[
        bool,
        typer.Option("--no-visible-mark", help="Leave out the visible 'AI-generated' mark (metadata stays)."),
    ] = False,
    watermark: WatermarkOption = True,
    voice: Annotated[
        Literal["off", "world", "elevenlabs"],
        typer.Option(help="Voice conversion: off, world (offline) or elevenlabs."),
    ] = "off",
    loudness: Annotated[
        float, typer.Option(help="Loudness target of the converted voice, LUFS.", min=-40.0, max=-5.0)
    ] = -16.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    engine: EngineOption = None,
    lipsync: Annotated[
        str, typer.Option(help="Lip-sync: off, mouth (offline), wav2lip, wav2lip_gan, edtalk or musetalk.")
    ] = "off",
    audio: Annotated[Path | None, typer.Option(help="Replacement audio for the output (e.g. a dub).")] = None,
    script: Annotated[str | None, typer.Option(help="Text the persona says instead (system speech).")] = None,
    transcript: Annotated[
        str | None, typer.Option(help="What the audio says, for phoneme alignment.")
    ] = None,
) -> None:
    """Apply PERSONA's face to VIDEO (resumable: run the same command again after a crash)."""
    parse_face(face)  # a clear error before anything runs
    spec = TransformSpec.model_validate(
        {
            "source": str(video), "output": str(output), "persona": persona, "face": face,
            "detector": detector,
            "swap": SwapOptions.model_validate({"backend": backend}).model_dump(),
            "output_settings": Output(crf=crf, preset=preset, chunk_frames=chunk_frames).model_dump(),
            "disclosure": Disclosure(visible_mark=not no_mark, watermark=watermark).model_dump(),
            "voice": {"enabled": voice != "off", "backend": "world" if voice == "off" else voice,
                      "loudness_lufs": loudness},
            **lipsync_fields(lipsync, audio, script, transcript),
        }
    )  # fmt: skip
    report = _run(spec, engine)
    if as_json:
        out.print_json(json.dumps(report.__dict__))
        return
    _print_report(report)


def demo(
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Where to write the demo video.")
    ] = None,
    watermark: WatermarkOption = True,
    engine: EngineOption = None,
) -> None:
    """Build the demo persona and transform the demo clip (all offline, from shipped files)."""
    content = demo_content()
    persona = ensure_demo_persona(PersonaStore())
    target = output or app_paths().data_dir / "demo" / "layer-demo.mp4"
    target.parent.mkdir(parents=True, exist_ok=True)
    spec = TransformSpec(
        source=str(content.clip), output=str(target), persona=persona.id,
        disclosure=Disclosure(watermark=watermark),
    )  # fmt: skip
    report = _run(spec, engine)
    _print_report(report)
    out.print(f"Demo persona: {persona.name}. Provenance and licences: {content.notice}")
    out.print(f"[bold]Demo video:[/] {target}")


def review_cmd(
    job: Annotated[str, typer.Argument(help="Job id, job folder or the job's output file.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print every flagged record as JSON.")] = False,
    engine: EngineOption = None,
) -> None:
    """List the frames of a transform job that the review rules flagged."""
    if engine:
        job_id, records = job, [FrameRecord.from_dict(d) for d in remote_records(engine, job)]
    else:
        loaded = load_job(job)
        job_id, records = loaded.job_id, loaded.records
    flagged = [r for r in records if r.flags]
    if as_json:
        out.print_json(json.dumps([r.to_dict() for r in flagged]))
        return
    if not flagged:
        out.print(f"job {job_id}: nothing flagged in {len(records)} frames")
        return
    table = Table(title=f"job {job_id}: {len(flagged)} flagged frame(s)")
    for column in ("frame", "flags", "faces", "confidence", "jitter", "swap"):
        table.add_column(column)
    for r in flagged:
        conf = "-" if r.confidence is None else f"{r.confidence:.2f}"
        jit = "-" if r.jitter is None else f"{r.jitter:.4f}"
        table.add_row(
            str(r.frame),
            ", ".join(r.flags),
            str(r.faces_found),
            conf,
            jit,
            "yes" if r.applied else (r.skip_reason or "no"),
        )
    out.print(table)


def _changes(settings: list[str]) -> dict[str, str]:
    changes = {}
    for item in settings:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InputError(f"'{item}' is not key=value.", hint="e.g. --set smoothing=3 --set enabled=false")
        changes[key.strip()] = value.strip()
    return changes


def rerender_cmd(
    job: Annotated[str, typer.Argument(help="Job id, job folder or the job's output file.")],
    frames: Annotated[str, typer.Option(help="Inclusive frame range, e.g. 120-160.")],
    settings: Annotated[
        list[str] | None,
        typer.Option("--set", help="key=value for these frames (a swap option, enabled, persona)."),
    ] = None,
    engine: EngineOption = None,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="With --engine: where to download the result.")
    ] = None,
) -> None:
    """Re-render FRAMES of a transform job (only their chunks are encoded again and spliced in)."""
    first, last = frame_range(frames)
    if engine:
        _print_report(rerender_remote(engine, job, first, last, _changes(settings or []), output))
        return
    with progress_bar(f"Re-rendering frames {first}-{last}", None) as (bar, task):
        report = rerender_job(job, first, last, _changes(settings or []), progress=_bar_progress(bar, task))
    _print_report(report)


def register(app: typer.Typer) -> None:
    app.command("transform")(transform)
    app.command("demo")(demo)
    app.command("review")(review_cmd)
    app.command("rerender")(rerender_cmd)
