"""`layer persona ...`: create, list, show, export, import and delete personas."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from layer_desktop.cli.common import console, out
from layer_desktop.engine.personas import (
    ConsentInput,
    FaceInput,
    Persona,
    PersonaStore,
    create_persona,
    export_persona,
    import_persona,
)

app = typer.Typer(
    help="Personas: a face from photos, a voice from samples, and a consent record.", no_args_is_help=True
)


def _date(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a date like 2024-05-31.", param_hint="--consent-date"
        ) from None


def _face_inputs(faces: list[Path], indices: list[int]) -> list[FaceInput]:
    if not indices:
        return [FaceInput(f) for f in faces]
    if len(indices) == 1:
        return [FaceInput(f, indices[0]) for f in faces]
    if len(indices) != len(faces):
        raise typer.BadParameter(
            f"give --face-index once (for every photo) or once per --face ({len(faces)} times).",
            param_hint="--face-index",
        )
    return [FaceInput(f, i) for f, i in zip(faces, indices, strict=True)]


@app.command()
def create(
    name: Annotated[str, typer.Option("--name", help="The persona's name (unique, any case).")],
    face: Annotated[list[Path], typer.Option("--face", help="A photo with the face; repeat for several.")],
    consent_by: Annotated[
        str | None, typer.Option("--consent-by", help="Who gave consent (required).", show_default=False)
    ] = None,
    face_index: Annotated[
        list[int] | None,
        typer.Option(
            "--face-index", help="Which face (0 = largest) when a photo has several: once, or per --face."
        ),
    ] = None,
    voice: Annotated[
        list[Path] | None, typer.Option("--voice", help="A voice recording; repeat for several.")
    ] = None,
    consent_statement: Annotated[str | None, typer.Option("--consent-statement", help="Their words.")] = None,
    consent_date: Annotated[
        str | None, typer.Option("--consent-date", help="YYYY-MM-DD (default today).")
    ] = None,
    consent_proof: Annotated[
        Path | None, typer.Option("--consent-proof", help="A signed form, e-mail, …")
    ] = None,
) -> None:
    """Create a persona from photos and voice samples, with its consent record."""
    persona = create_persona(
        PersonaStore(),
        name,
        _face_inputs(face, face_index or []),
        ConsentInput(consent_by, consent_statement, _date(consent_date), consent_proof),
        voice or [],
    )
    for f in persona.faces:
        if f.flagged:
            console.print(f"[yellow]Not used:[/] {f.source_name}: {f.flag_reason}")
    out.print(f"Created persona {persona.name!r} ({persona.id})")
    _print_persona(persona)


@app.command("list")
def list_personas() -> None:
    """All personas, by name."""
    personas = PersonaStore().list()
    if not personas:
        out.print("No personas yet: create one with `layer persona create`.")
        return
    table = Table(title="Personas")
    for column in ("id", "name", "photos used", "voice samples", "consent by", "created"):
        table.add_column(column)
    for p in personas:
        table.add_row(
            p.id,
            p.name,
            f"{len(p.chosen_faces)}/{len(p.faces)}",
            str(len(p.voices)),
            p.consent.given_by,
            p.created_at[:19].replace("T", " "),
        )
    out.print(table)


@app.command()
def show(ref: Annotated[str, typer.Argument(metavar="ID|NAME", help="Persona id or name.")]) -> None:
    """Everything about one persona."""
    _print_persona(PersonaStore().get(ref))


def _print_persona(p: Persona) -> None:
    out.print(f"[bold]{p.name}[/]  id {p.id}  created {p.created_at[:19]}  updated {p.updated_at[:19]}")
    c = p.consent
    out.print(f"Consent: given by {c.given_by} on {c.date.isoformat()}: {c.statement!r}")
    if c.proof_sha256:
        out.print(f"  proof: {c.proof_name} (sha256 {c.proof_sha256[:12]}…)")
    for i, f in enumerate(p.faces):
        state = f"[yellow]not used: {f.flag_reason}[/]" if f.flagged else "used"
        reasons = f" ({', '.join(f.quality_reasons)})" if f.quality_reasons else ""
        out.print(
            f"Photo {i}: {f.source_name} face {f.face_index}, quality {f.quality:.2f}{reasons}, {state}"
        )
    for v in p.voices:
        out.print(
            f"Voice: {v.source_name} {v.duration_s:.2f} s, {v.sample_rate} Hz, "
            f"RMS {v.rms_dbfs:.1f} dBFS, peak {v.peak_dbfs:.1f} dBFS"
        )
    for model_id, vector in p.embeddings.items():
        out.print(f"Identity embedding: {model_id} ({vector.size} values)")
    for backend in p.voice_profiles:
        out.print(f"Voice profile: {backend}")


@app.command("export")
def export_cmd(
    ref: Annotated[str, typer.Argument(metavar="ID|NAME", help="Persona id or name.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="The .layerpersona file to write.")],
) -> None:
    """Write a persona with its photos and recordings to one .layerpersona file."""
    path = export_persona(PersonaStore(), ref, output)
    out.print(f"Exported to {path}")


@app.command("import")
def import_cmd(file: Annotated[Path, typer.Argument(help="A .layerpersona file.")]) -> None:
    """Add the persona in a .layerpersona file (an already present one is updated only if older)."""
    result = import_persona(PersonaStore(), file)
    words = {"created": "Imported", "updated": "Updated", "unchanged": "Already up to date:"}
    out.print(f"{words[result.action]} persona {result.persona.name!r} ({result.persona.id})")


@app.command()
def delete(
    ref: Annotated[str, typer.Argument(metavar="ID|NAME", help="Persona id or name.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a persona and the photos and recordings no other persona uses."""
    store = PersonaStore()
    persona = store.get(ref)
    if not yes and not typer.confirm(f"Delete persona {persona.name!r} ({persona.id})?"):
        raise typer.Abort()
    store.delete(persona.id)
    out.print(f"Deleted persona {persona.name!r} ({persona.id})")
