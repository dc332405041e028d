"""The built-in demo: a sample persona (public-domain portrait + CMU ARCTIC voice) and a clip, all
shipped in ``resources/demo`` (provenance and licences in its NOTICE.md)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from layer_desktop.engine.personas import ConsentInput, FaceInput, Persona, PersonaStore, create_persona
from layer_desktop.paths import resources_dir

log = logging.getLogger(__name__)

DEMO_PERSONA = "Demo: Grace (public-domain portrait)"
DEMO_CONSENT = ConsentInput(
    given_by="Public domain: U.S. Navy portrait of Grace M. Hopper (17 U.S.C. §105)",
    statement=(
        "Demo persona built from a public-domain portrait, used only to show what the tools do; "
        "no endorsement is implied. See resources/demo/NOTICE.md."
    ),
)


@dataclass(frozen=True)
class DemoContent:
    clip: Path
    persona_name: str
    persona_face: Path
    persona_voice: Path
    notice: Path


def demo_content() -> DemoContent:
    """Paths of the demo files (raises FileNotFoundError if the install is incomplete)."""
    root = resources_dir() / "demo"
    content = DemoContent(
        clip=root / "talk_astronaut_4s.mp4",
        persona_name=DEMO_PERSONA,
        persona_face=root / "grace_hopper.jpg",
        persona_voice=root / "arctic_a0009_female.wav",
        notice=root / "NOTICE.md",
    )
    for path in (content.clip, content.persona_face, content.persona_voice):
        if not path.is_file():
            raise FileNotFoundError(f"demo file missing: {path}")
    return content


def ensure_demo_persona(store: PersonaStore) -> Persona:
    """The demo persona, created from the shipped files on first use."""
    content = demo_content()
    if store.exists(content.persona_name):
        return store.get(content.persona_name)
    log.info("creating the demo persona from %s", content.persona_face)
    return create_persona(
        store, content.persona_name, [FaceInput(content.persona_face)], DEMO_CONSENT, [content.persona_voice]
    )
