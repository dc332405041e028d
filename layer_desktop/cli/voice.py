"""`layer voice ...` (profile, convert, set-key) and `layer tts`: the persona's voice on the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from layer_desktop.cli.common import console, out, progress_bar
from layer_desktop.engine.media.audio import extract_audio
from layer_desktop.engine.media.preflight import check_place
from layer_desktop.engine.media.probe import probe
from layer_desktop.engine.personas import PersonaStore
from layer_desktop.engine.voice import (
    API_KEY_NAME,
    SpeechBackendName,
    VoiceBackendName,
    VoiceProfile,
    convert_voice,
    profile_persona,
    synthesize,
)
from layer_desktop.engine.voice.audio_file import write_audio
from layer_desktop.errors import NoAudioStreamError
from layer_desktop.secrets import KeyringSecrets

app = typer.Typer(help="The persona's voice: profile, conversion, API key.", no_args_is_help=True)

PersonaArg = Annotated[str, typer.Argument(metavar="PERSONA", help="Persona id or name.")]


@app.command("profile")
def profile_cmd(persona: PersonaArg) -> None:
    """Measure the persona's voice samples and store the voice profile (flags bad samples)."""
    store = PersonaStore()
    profile = profile_persona(store, persona)
    _print_profile(store.get(persona).name, profile)


def _print_profile(name: str, p: VoiceProfile) -> None:
    out.print(f"[bold]Voice profile of {name}[/] ({p.speech_s:.1f} s of speech in {p.duration_s:.1f} s)")
    out.print(f"Pitch: median {p.f0_median_hz:.0f} Hz, range {p.f0_p5_hz:.0f}–{p.f0_p95_hz:.0f} Hz")
    out.print(f"Voiced: {100 * p.voiced_ratio:.0f} % of speech")
    formants = ", ".join(f"{f:.0f}" for f in p.formants_hz) or "none found"
    out.print(f"Formants (estimate): {formants} Hz")
    if p.loudness_lufs is not None:
        out.print(f"Loudness: {p.loudness_lufs:.1f} LUFS")
    table = Table(title="Samples")
    for column in ("sample", "length", "speech", "pitch", "peak", "used", "notes"):
        table.add_column(column)
    for s in p.samples:
        table.add_row(
            s.name,
            f"{s.duration_s:.1f} s",
            f"{s.speech_s:.1f} s",
            f"{s.f0_median_hz:.0f} Hz" if s.f0_median_hz else "-",
            f"{s.peak_dbfs:.1f} dBFS",
            "yes" if s.usable else "[yellow]no[/]",
            "; ".join(i.message for i in s.issues),
        )
    out.print(table)


@app.command("convert")
def convert_cmd(
    source: Annotated[Path, typer.Argument(metavar="IN", help="Audio or video file with speech.")],
    persona: Annotated[str, typer.Option("--persona", "-p", help="Persona id or name.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Audio file to write (.wav, .flac, .m4a).")],
    backend: Annotated[str, typer.Option("--backend", help="world (offline) or elevenlabs.")] = "world",
) -> None:
    """Speak IN's speech in the persona's voice; the output has exactly IN's length."""
    if backend not in ("world", "elevenlabs"):
        raise typer.BadParameter("use world or elevenlabs", param_hint="--backend")
    check_place(output, (source,))  # never over the input, a folder, or a folder that is not there
    info = probe(source)
    if info.audio is None:
        raise NoAudioStreamError(f"{source} has no audio track to convert.", path=source)
    pcm = extract_audio(source, info.audio.sample_rate, channels=min(2, max(1, info.audio.channels)))
    with progress_bar(f"Converting {source.name} ({backend})", pcm.samples.shape[1]) as (bar, task):
        converted = convert_voice(
            pcm,
            persona,
            backend=_voice_backend(backend),
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    write_audio(output, converted)
    out.print(
        f"Wrote {output} ({converted.duration:.2f} s, {converted.rate} Hz, {converted.samples.shape[0]} ch)"
    )


def _voice_backend(name: str) -> VoiceBackendName:
    return "elevenlabs" if name == "elevenlabs" else "world"


@app.command("set-key")
def set_key_cmd() -> None:
    """Store the ElevenLabs API key in the OS keyring (asked for, never taken from the command line)."""
    key = typer.prompt("ElevenLabs API key", hide_input=True).strip()
    if not key:
        raise typer.BadParameter("the key is empty")
    KeyringSecrets().set(API_KEY_NAME, key)
    out.print("The ElevenLabs API key is stored in the OS keyring.")


def tts_cmd(
    text: Annotated[str, typer.Argument(help="What to say.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Audio file to write (.wav, .flac, .m4a).")],
    persona: Annotated[
        str | None, typer.Option("--persona", "-p", help="Speak in this persona's voice.")
    ] = None,
    backend: Annotated[str, typer.Option("--backend", help="system (offline) or elevenlabs.")] = "system",
    timings: Annotated[
        Path | None, typer.Option("--timings", help="Also write word/phoneme timings as JSON here.")
    ] = None,
) -> None:
    """Text to speech, optionally in a persona's voice, with word timings for lip-sync."""
    if backend not in ("system", "elevenlabs"):
        raise typer.BadParameter("use system or elevenlabs", param_hint="--backend")
    name: SpeechBackendName = "elevenlabs" if backend == "elevenlabs" else "system"
    speech = synthesize(text, persona, backend=name)
    write_audio(output, speech.pcm)
    out.print(f"Wrote {output} ({speech.pcm.duration:.2f} s, {len(speech.words)} words timed)")
    if timings is not None:
        timings.write_text(json.dumps(speech.timings_dict(), indent=2), encoding="utf-8")
        out.print(f"Wrote timings to {timings}")
    elif not speech.words:
        console.print("[yellow]This backend gives no word timings.[/]")


def register(root: typer.Typer) -> None:
    """Add `layer voice ...` and `layer tts` to the top-level app."""
    root.add_typer(app, name="voice")
    root.command("tts")(tts_cmd)
