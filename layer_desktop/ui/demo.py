"""The built-in demo: a sample persona (photo + voice) and a clip, shipped in resources/demo."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from layer_desktop.paths import resources_dir


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
        persona_name="Demo: Grace (public-domain portrait)",
        persona_face=root / "grace_hopper.jpg",
        persona_voice=root / "arctic_a0009_female.wav",
        notice=root / "NOTICE.md",
    )
    for path in (content.clip, content.persona_face, content.persona_voice):
        if not path.is_file():
            raise FileNotFoundError(f"demo file missing: {path}")
    return content
