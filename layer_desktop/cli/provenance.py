"""`layer provenance show|verify|check FILE`: an output's C2PA manifest, its validity, its watermark."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from layer_desktop.cli.common import out
from layer_desktop.engine.provenance.c2pa_sign import ManifestReport, read_manifest
from layer_desktop.engine.provenance.check import check_file
from layer_desktop.engine.provenance.identity import provenance_dir
from layer_desktop.engine.provenance.manifest import CONSENT_LABEL, MODELS_LABEL
from layer_desktop.errors import ProvenanceError

app = typer.Typer(help="Provenance of outputs: the signed C2PA manifest and the invisible watermark.")

FileArg = Annotated[Path, typer.Argument(help="A video rendered by Layer Desktop (or anyone's).")]
AnchorOpt = Annotated[
    Path | None,
    typer.Option("--trust", help="PEM file of trusted root certificates (default: this install's CA)."),
]


def _anchors(trust: Path | None) -> bytes | None:
    if trust is not None and not trust.is_file():  # a typo must not read as "not trusted"
        raise ProvenanceError(
            f"The trust file {trust} does not exist.", hint="Give a PEM file of root certificates."
        )
    path = trust or provenance_dir() / "ca.pem"
    return path.read_bytes() if path.is_file() else None


def _summary(report: ManifestReport) -> list[str]:
    m = report.manifest or {}
    sig = m.get("signature_info") or {}
    lines = [f"state: {report.state}", f"signed by: {sig.get('common_name')} ({sig.get('issuer')})"]
    for a in (report.assertion("c2pa.actions.v2") or {}).get("actions", []):
        lines.append(f"action: {a.get('action')} {a.get('digitalSourceType', '')}".rstrip())
    for c in (report.assertion(CONSENT_LABEL) or {}).get("consents", []):
        lines.append(f"consent: persona {c.get('persona_id')} ({c.get('consent_date')})")
    for model in (report.assertion(MODELS_LABEL) or {}).get("models", []):
        lines.append(f"model: {model.get('id')} — {model.get('licence')}")
    lines += [f"failure: {code}" for code in report.failures]
    return lines


@app.command("show")
def show(file: FileArg, trust: AnchorOpt = None, as_json: bool = typer.Option(False, "--json")) -> None:
    """Print the file's active C2PA manifest."""
    report = read_manifest(file, _anchors(trust))
    if report.manifest is None:
        raise ProvenanceError(
            f"{file.name} carries no C2PA manifest.", hint="It was not signed (or was re-encoded)."
        )
    if as_json:
        out.print_json(json.dumps({"state": report.state, "manifest": report.manifest}))
        return
    for line in _summary(report):
        out.print(line, highlight=False, soft_wrap=True)


@app.command("verify")
def verify(file: FileArg, trust: AnchorOpt = None) -> None:
    """Validate the manifest: Trusted (chains to a trusted root), Valid, or Invalid (exit status 1)."""
    report = read_manifest(file, _anchors(trust))
    if report.state is None:
        out.print(f"{file.name}: no C2PA manifest")
        raise typer.Exit(1)
    out.print(f"{file.name}: {report.state}")
    for code in report.failures:
        out.print(f"  {code}")
    if report.state not in ("Valid", "Trusted"):
        raise typer.Exit(1)


@app.command("check")
def check(file: FileArg, frames: int = typer.Option(30, "--frames", min=1, help="Frames to sample.")) -> None:
    """Look for the invisible watermark; exit status 1 when no sampled frame holds it."""
    report = check_file(file, frames)
    out.print(f"{file.name}: watermark in {report.found} of {report.frames} sampled frames")
    if report.payload is None:
        raise typer.Exit(1)
    out.print(f"payload: {report.payload:04x}")


def register(parent: typer.Typer) -> None:
    parent.add_typer(app, name="provenance")
