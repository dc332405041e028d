"""What an output's C2PA manifest says: made by whom, from which source, with which models, under
whose consent, and how it discloses itself. Pure data → the manifest definition c2pa signs."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from layer_desktop import __version__

APP = "Layer Desktop"
IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"
# IPTC digital source types: new pixels or sound blended into a real recording, versus made wholly
COMPOSITE = IPTC + "compositeWithTrainedAlgorithmicMedia"
GENERATED = IPTC + "trainedAlgorithmicMedia"
CONSENT_LABEL = "com.layerdesktop.consent"
DISCLOSURE_LABEL = "com.layerdesktop.disclosure"
MODELS_LABEL = "com.layerdesktop.models"

EditKind = Literal["face_swap", "lip_sync", "talking_head", "voice_clone", "voice_conversion"]
# what each edit makes: over the real footage (composite) or from nothing but a model (generated)
SOURCE_TYPE: dict[str, str] = {
    "face_swap": COMPOSITE,
    "lip_sync": COMPOSITE,
    "talking_head": GENERATED,
    "voice_clone": GENERATED,
    "voice_conversion": GENERATED,
}
DESCRIPTION: dict[str, str] = {
    "face_swap": "The face of a consenting persona was put over the person in the source video.",
    "lip_sync": "The mouth movement was regenerated to follow new speech.",
    "talking_head": "The video was generated from a still portrait of a consenting persona.",
    "voice_clone": "The speech was synthesised in a consenting persona's cloned voice.",
    "voice_conversion": "The speaker's voice was converted into a consenting persona's voice.",
}


class ConsentRef(BaseModel):
    """The persona's consent, by reference only (no name, no face, no statement)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    persona_id: str
    consent_date: str  # ISO date


class ModelRef(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    licence: str
    commercial_use: bool


class ProvenanceFacts(BaseModel):
    """Everything the manifest of one output states."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str
    job_id: str
    source_title: str | None  # the parent ingredient (None: generated from nothing but stills)
    edits: tuple[EditKind, ...]
    consents: tuple[ConsentRef, ...]
    models: tuple[ModelRef, ...]
    disclosure: str
    visible_mark: bool
    watermark: str | None = None  # the invisible mark's payload (hex), when one is in the frames


def _actions(facts: ProvenanceFacts) -> list[dict[str, Any]]:
    agent = {"name": APP, "version": __version__}
    actions: list[dict[str, Any]] = []
    if facts.source_title is not None:
        actions.append({"action": "c2pa.opened", "parameters": {"ingredientIds": ["source"]}})
    else:
        actions.append({"action": "c2pa.created", "digitalSourceType": GENERATED, "softwareAgent": agent})
    for kind in facts.edits:
        actions.append(
            {
                "action": "c2pa.edited",
                "digitalSourceType": SOURCE_TYPE[kind],
                "softwareAgent": agent,
                "description": DESCRIPTION[kind],
                "parameters": {"layer.edit": kind, "layer.models": [m.id for m in facts.models]},
            }
        )
    return actions


def manifest_definition(facts: ProvenanceFacts) -> dict[str, Any]:
    """The manifest definition (c2pa ``Builder`` JSON) for ``facts``."""
    disclosure = {
        "text": facts.disclosure,
        "visible_mark": facts.visible_mark,
        "invisible_watermark": facts.watermark,
        "job_id": facts.job_id,
    }
    return {
        "claim_generator_info": [{"name": APP, "version": __version__}],
        "title": facts.title,
        "format": "video/mp4",
        "assertions": [
            {"label": "c2pa.actions.v2", "data": {"actions": _actions(facts)}},
            {"label": CONSENT_LABEL, "data": {"consents": [c.model_dump() for c in facts.consents]}},
            {"label": MODELS_LABEL, "data": {"models": [m.model_dump() for m in facts.models]}},
            {"label": DISCLOSURE_LABEL, "data": disclosure},
        ],
    }


def parent_ingredient(title: str) -> dict[str, Any]:
    return {"title": title, "relationship": "parentOf", "label": "source"}
