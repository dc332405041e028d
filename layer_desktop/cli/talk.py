"""`layer talk`: one photo (or persona) and a script, script file or recording → a talking-head video;
`layer talk batch`: a product catalogue → one video per product (see ``cli.talk_batch``)."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer

from layer_desktop.cli.common import out, progress_bar
from layer_desktop.cli.engine import EngineOption
from layer_desktop.engine.media.domain import CRF_MAX, CRF_MIN, Preset
from layer_desktop.engine.media.preflight import check_place
from layer_desktop.engine.pipeline.spec import Disclosure, Output
from layer_desktop.engine.talking.render import Progress, TalkReport, render_talk
from layer_desktop.engine.talking.spec import AnimatorName, SpeechName, TalkSpec
from layer_desktop.errors import InputError

app = typer.Typer(
    help="Talking heads: a photo or persona says a script (offline animator by default).",
    invoke_without_command=True,
    no_args_is_help=False,
)

STAGES = {"face": "Finding the face", "speech": "Speaking", "render": "Animating", "finish": "Signing"}


def bar_progress(bar: Any, task: int) -> Progress:
    def update(stage: str, done: int, total: int) -> None:
        bar.update(task, description=STAGES.get(stage, stage), completed=done, total=total)

    return update


def run_remote(url: str, spec: TalkSpec) -> TalkReport:
    """Submit ``spec`` to the engine at ``url``, follow it, download the video to ``spec.output``."""
    from layer_desktop.cli.engine import connect, follow
    from layer_desktop.engine.talking.remote import report_of, submit_talk

    output = Path(spec.output)
    check_place(output, tuple(Path(p) for p in (spec.photo, spec.audio, spec.script_file) if p))
    with connect(url) as client:
        job = submit_talk(client, spec)
        out.print(f"job {job.job_id} submitted to {url}")
        info = follow(client, job, "Queued")
        client.download(job.job_id, output)
    return report_of(info, output)


def _one(flags: dict[str, object], what: str) -> None:
    given = [name for name, value in flags.items() if value is not None]
    if len(given) != 1:
        names = ", ".join(flags)
        said = f"{len(given)} were given ({', '.join(given)})" if given else "none was given"
        raise InputError(f"Give exactly one of {names} ({what}); {said}.", hint="See `layer talk --help`.")


def print_report(r: TalkReport) -> None:
    out.print(f"Wrote {r.output}")
    out.print(
        f"{r.frames} frames at {r.fps} fps ({r.width}x{r.height}), speech {r.speech_seconds:.2f} s "
        f"({r.speech}{', voice ' + r.voice_conversion if r.voice_conversion else ''}), mouth from {r.mouth}, "
        f"{r.blinks} blink(s), {r.animator}{' (offline animator)' if r.animator == 'animate' else ''}, "
        f"{r.encoder}, {r.seconds:.1f} s"
    )
    for note in r.notes:
        out.print(f"note: {note}")


@app.callback(invoke_without_command=True)
def talk(
    ctx: typer.Context,
    photo: Annotated[Path | None, typer.Option(help="A photo with one face.")] = None,
    persona: Annotated[
        str | None, typer.Option(help="A persona (name or id): its best photo and voice.")
    ] = None,
    script: Annotated[str | None, typer.Option(help="What the face says.")] = None,
    script_file: Annotated[Path | None, typer.Option(help="A UTF-8 text file with the script.")] = None,
    audio: Annotated[Path | None, typer.Option(help="A recording to speak instead of a script.")] = None,
    transcript: Annotated[str | None, typer.Option(help="What --audio says (aligns the mouth).")] = None,
    voice: Annotated[
        str, typer.Option(help="eSpeak NG voice of system speech (en, en-us, en+f3, …).")
    ] = "en",
    speech: Annotated[SpeechName, typer.Option(help="system (offline) or elevenlabs (persona's clone).")] = (
        "system"
    ),
    size: Annotated[
        str | None, typer.Option(help="N (square) or WxH, up to 1080p; default from the photo.")
    ] = (None),
    motion: Annotated[float, typer.Option(help="Head motion amount (0 still .. 2).", min=0.0, max=2.0)] = 1.0,
    animator: Annotated[
        AnimatorName,
        typer.Option(help="animate (offline, no download) or liveportrait (its six models: `layer models`)."),
    ] = "animate",
    seed: Annotated[int, typer.Option(help="Seed of the blinks and head motion.", min=0)] = 0,
    crf: Annotated[int, typer.Option(help="Quality: lower is better.", min=CRF_MIN, max=CRF_MAX)] = 18,
    preset: Annotated[Preset, typer.Option(help="Encoder speed preset.")] = "veryfast",
    no_mark: Annotated[
        bool, typer.Option("--no-visible-mark", help="Leave out the visible 'AI-generated' mark.")
    ] = False,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Output MP4.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    engine: EngineOption = None,
) -> None:
    """Make PHOTO (or PERSONA) say SCRIPT (or SCRIPT_FILE, or AUDIO): a 25 fps video with the speech."""
    if ctx.invoked_subcommand is not None:
        return
    _one({"--photo": photo, "--persona": persona}, "who speaks")
    _one({"--script": script, "--script-file": script_file, "--audio": audio}, "what is said")
    if output is None:
        raise InputError("Where should the video go?", hint="Add -o OUT.mp4.")
    spec = TalkSpec.model_validate(
        {
            "output": str(output), "photo": str(photo) if photo else None, "persona": persona,
            "script": script, "script_file": str(script_file) if script_file else None,
            "audio": str(audio) if audio else None, "transcript": transcript, "voice": voice,
            "speech": speech, "size": size, "motion": motion, "seed": seed, "animator": animator,
            "disclosure": Disclosure(visible_mark=not no_mark).model_dump(),
            "output_settings": Output(crf=crf, preset=preset).model_dump(),
        }
    )  # fmt: skip
    if engine:
        report = run_remote(engine, spec)
    else:
        with progress_bar("Starting", None) as (bar, task):
            report = render_talk(spec, progress=bar_progress(bar, task))
    if as_json:
        out.print_json(json.dumps(asdict(report)))
        return
    print_report(report)


def register(root: typer.Typer) -> None:
    from layer_desktop.cli import talk_batch

    talk_batch.register(app)
    root.add_typer(app, name="talk")
