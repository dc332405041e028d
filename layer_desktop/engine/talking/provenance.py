"""The C2PA manifest of a talking head: created from a still by a model-free animator (IPTC
``trainedAlgorithmicMedia``), with the speech's origin, the persona's consent and the models named."""

from __future__ import annotations

import logging
from pathlib import Path

from layer_desktop.engine.models.manifest import Manifest, load_manifest
from layer_desktop.engine.personas import Persona
from layer_desktop.engine.provenance.c2pa_sign import can_sign, sign_output
from layer_desktop.engine.provenance.identity import signing_identity
from layer_desktop.engine.provenance.manifest import ConsentRef, EditKind, ModelRef, ProvenanceFacts
from layer_desktop.engine.talking.liveportrait import MODEL_IDS as LIVEPORTRAIT_MODELS
from layer_desktop.engine.talking.spec import TalkSpec
from layer_desktop.engine.talking.speech import TalkSpeech

log = logging.getLogger(__name__)

FACE_MODELS = ("mediapipe_face_detection_short_range", "mediapipe_face_landmark")
_SPEECH_REFS = {
    "system": ModelRef(
        id="tts:espeak-ng", licence="eSpeak NG (GPL-3.0, run as a library)", commercial_use=True
    ),
    "elevenlabs": ModelRef(
        id="tts:elevenlabs", licence="ElevenLabs terms of service (cloud)", commercial_use=True
    ),
}
ANIMATOR_REF = ModelRef(
    id="animate", licence="Layer Desktop offline animator (no model weights)", commercial_use=True
)
WORLD_REF = ModelRef(id="voice:world", licence="WORLD vocoder (modified BSD)", commercial_use=True)


def _ref(manifest: Manifest, model_id: str) -> ModelRef:
    licence = manifest.get(model_id).licence
    return ModelRef(id=model_id, licence=licence.name, commercial_use=licence.commercial_use)


def talk_facts(
    spec: TalkSpec, job_id: str, persona: Persona | None, speech: TalkSpeech, watermark: int | None
) -> ProvenanceFacts:
    """What the manifest of a talking head states."""
    manifest = load_manifest()
    models = [_ref(manifest, m) for m in FACE_MODELS]
    if spec.animator == "liveportrait":
        models.extend(_ref(manifest, m) for m in LIVEPORTRAIT_MODELS.values())
    else:
        models.append(ANIMATOR_REF)
    edits: list[EditKind] = ["talking_head"]
    if speech.backend in _SPEECH_REFS:
        models.append(_SPEECH_REFS[speech.backend])
    if persona is not None and (speech.voice_conversion or speech.backend == "elevenlabs"):
        edits.append("voice_clone")
        if speech.voice_conversion == "world":
            models.append(WORLD_REF)
    consents = (
        ()
        if persona is None
        else (ConsentRef(persona_id=persona.id, consent_date=persona.consent.date.isoformat()),)
    )
    return ProvenanceFacts(
        title=Path(spec.output).name, job_id=job_id, source_title=None, edits=tuple(edits),
        consents=consents, models=tuple(models), disclosure=spec.disclosure.text,
        visible_mark=spec.disclosure.visible_mark,
        watermark=None if watermark is None else f"{watermark:04x}",
    )  # fmt: skip


def sign_talk_output(
    spec: TalkSpec, job_id: str, persona: Persona | None, speech: TalkSpeech, watermark: int | None
) -> str | None:
    """Sign the finished output (the last write to it); a note instead when its container cannot carry a
    manifest. Raises ``ProvenanceError``."""
    return sign_facts(Path(spec.output), talk_facts(spec, job_id, persona, speech, watermark))


def sign_facts(output: Path, facts: ProvenanceFacts) -> str | None:
    """Sign ``output`` with this machine's identity for ``facts`` (made where the video was rendered,
    perhaps a cluster worker); a note instead when its container cannot carry a manifest. Raises
    ``ProvenanceError``."""
    if not can_sign(output):
        log.warning("%s is not signed: C2PA manifests go in MP4 and MOV files only", output.name)
        return f"Not signed with a C2PA manifest: {output.suffix} files cannot carry one (use .mp4 or .mov)."
    sign_output(output, facts, signing_identity(), None)
    return None
