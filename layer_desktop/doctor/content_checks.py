"""Checks of the app's content: the provenance signer (a real signature read back) and the models."""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from pathlib import Path

from cryptography import x509

from layer_desktop.doctor.core import CheckResult
from layer_desktop.engine.models import ModelStore
from layer_desktop.engine.provenance.c2pa_sign import read_manifest, sign_output
from layer_desktop.engine.provenance.identity import signing_identity
from layer_desktop.engine.provenance.manifest import ProvenanceFacts
from layer_desktop.errors import LayerError
from layer_desktop.paths import resources_dir

_FACTS = ProvenanceFacts(
    title="doctor.mp4",
    job_id="doctor",
    source_title=None,
    edits=("face_swap",),
    consents=(),
    models=(),
    disclosure="AI-generated (signer test)",
    visible_mark=True,
)


def check_signer() -> CheckResult:
    """The signing identity loads, is in date, and signs a copy of the demo clip that reads back Valid."""
    try:
        identity = signing_identity()
    except LayerError as exc:
        return CheckResult("fail", f"no signing identity: {exc.message}", exc.hint)
    leaf = x509.load_pem_x509_certificate(identity.chain_pem)
    days = (leaf.not_valid_after_utc - dt.datetime.now(dt.UTC)).days
    details = {"subject": identity.subject, "key": identity.key_store, "expires in": f"{days} days"}
    if days < 0:
        return CheckResult(
            "fail", "the signing certificate has expired", "Renew it (Settings › Provenance).", details
        )
    with tempfile.TemporaryDirectory(prefix="layer-doctor-") as tmp:
        clip = Path(tmp) / "doctor.mp4"
        shutil.copy(resources_dir() / "demo" / "talk_astronaut_4s.mp4", clip)
        try:
            sign_output(clip, _FACTS, identity, None)
        except LayerError as exc:
            return CheckResult("fail", f"signing failed: {exc.message}", exc.hint, details)
        state = read_manifest(clip, identity.ca_pem).state
    if state not in ("Valid", "Trusted"):
        return CheckResult(
            "fail", f"a fresh signature reads {state}", "Check the certificate chain and key.", details
        )
    return CheckResult("ok", f"signs; a test file reads {state}", details=details)


def check_models(store: ModelStore | None = None) -> CheckResult:
    """Every model on disk matches its sha256; licences that forbid commercial use are named."""
    store = store or ModelStore()
    bad, present, noncommercial = [], [], []
    for status in store.statuses():
        if not status.present:
            continue
        try:
            store.verify(status.spec.id)
        except LayerError as exc:
            bad.append(f"{status.spec.id}: {exc.message}")
            continue
        present.append(status.spec.id)
        if not status.spec.licence.commercial_use:
            noncommercial.append(f"{status.spec.id} ({status.spec.licence.name})")
    details = {"verified": ", ".join(present)}
    if noncommercial:
        details["non-commercial"] = ", ".join(noncommercial)
    if bad:
        return CheckResult(
            "fail",
            f"{len(bad)} model file(s) damaged: {'; '.join(bad)}",
            "Run `layer models fetch ID` (or import the file again).",
            details,
        )
    status = "warn" if noncommercial else "ok"
    hint = "Those models' licences forbid commercial use." if noncommercial else ""
    return CheckResult(status, f"{len(present)} model(s) verified (sha256)", hint, details)
