"""Provenance of a transform job's output: what its manifest states, and the one call that signs it
(made by the job after the join and mux of a render or of a spliced re-render)."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from layer_desktop.engine.models.manifest import load_manifest
from layer_desktop.engine.personas import Persona
from layer_desktop.engine.provenance.c2pa_sign import can_sign, sign_output
from layer_desktop.engine.provenance.identity import signing_identity
from layer_desktop.engine.provenance.manifest import ConsentRef, EditKind, ModelRef, ProvenanceFacts
from layer_desktop.engine.provenance.watermark import BITS

if TYPE_CHECKING:  # the pipeline imports this module: no cycle at run time
    from layer_desktop.engine.pipeline.spec import TransformSpec

log = logging.getLogger(__name__)

_SHORT, _FULL = "mediapipe_face_detection_short_range", "mediapipe_face_detection_full_range_sparse"
# `auto` runs both: short range on the whole frame, full range on the frame and its tiles (faces.tiled)
_DETECTORS = {"short": (_SHORT,), "full": (_FULL,), "auto": (_SHORT, _FULL)}
_BACKEND_MODELS = {"landmark": (), "inswapper": ("inswapper_128_fp16", "w600k_r50")}
_ENHANCER_MODELS = {"none": (), "gfpgan": ("gfpgan_1.4",)}


def watermark_payload(job_id: str) -> int:
    """The invisible mark's payload of a job: the low 15 bits of the job id's hash."""
    value = int.from_bytes(hashlib.sha256(job_id.encode()).digest()[:4], "big")
    return value & ((1 << BITS) - 1)


def model_ids(spec: TransformSpec) -> list[str]:
    """The models a transform job runs, in a stable order."""
    ids = [*_DETECTORS[spec.detector], "mediapipe_face_landmark"]
    for options in [spec.swap, *(s.swap for s in spec.segments if s.swap)]:
        ids += [*_BACKEND_MODELS[options.backend], *_ENHANCER_MODELS[options.enhancer]]
    return list(dict.fromkeys(ids))


def _model_refs(ids: Iterable[str]) -> tuple[ModelRef, ...]:
    manifest = load_manifest()
    refs = []
    for model_id in ids:
        spec = manifest.get(model_id)
        refs.append(
            ModelRef(id=model_id, licence=spec.licence.name, commercial_use=spec.licence.commercial_use)
        )
    return tuple(refs)


def transform_facts(
    spec: TransformSpec, job_id: str, personas: Iterable[Persona], watermark: int | None
) -> ProvenanceFacts:
    """The manifest facts of a transform job's output."""
    edits: list[EditKind] = ["face_swap"]
    ids = model_ids(spec)
    if spec.voice.enabled:
        edits.append("voice_conversion")
        ids.append(f"voice:{spec.voice.backend}")
    models = _model_refs(i for i in ids if not i.startswith("voice:"))
    if spec.voice.enabled:
        cloud = spec.voice.backend == "elevenlabs"
        licence = "ElevenLabs terms of service (cloud)" if cloud else "WORLD vocoder (modified BSD)"
        models += (ModelRef(id=f"voice:{spec.voice.backend}", licence=licence, commercial_use=True),)
    consents = tuple(
        ConsentRef(persona_id=p.id, consent_date=p.consent.date.isoformat())
        for p in sorted(personas, key=lambda p: p.id)
    )
    return ProvenanceFacts(
        title=Path(spec.output).name, job_id=job_id, source_title=Path(spec.source).name,
        edits=tuple(edits), consents=consents, models=models, disclosure=spec.disclosure.text,
        visible_mark=spec.disclosure.visible_mark,
        watermark=None if watermark is None else f"{watermark:04x}",
    )  # fmt: skip


def sign_transform_output(
    spec: TransformSpec, job_id: str, personas: Iterable[Persona], watermark: int | None
) -> str | None:
    """Sign the job's finished output; the last write to it. Returns a note for the job's report when
    the container carries no manifest (MKV): the visible mark, the metadata and the invisible watermark
    still disclose it. Raises ``ProvenanceError``."""
    output = Path(spec.output)
    if not can_sign(output):
        log.warning("%s is not signed: C2PA manifests go in MP4 and MOV files only", output.name)
        return f"Not signed with a C2PA manifest: {output.suffix} files cannot carry one (use .mp4 or .mov)."
    facts = transform_facts(spec, job_id, personas, watermark)
    sign_output(output, facts, signing_identity(), Path(spec.source))
    return None
