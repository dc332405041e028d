"""Fixtures for voice: the two CMU ARCTIC recordings as PCM, and personas with real voice samples."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from layer_desktop.engine.media.audio import Pcm, extract_audio
from layer_desktop.engine.personas import Persona, PersonaStore
from tests.engine.voice.helpers import add_persona


@pytest.fixture
def male_wav(media_dir: Path) -> Path:
    return media_dir / "audio" / "arctic_a0007_awb.wav"


@pytest.fixture
def female_wav(media_dir: Path) -> Path:
    return media_dir / "audio" / "arctic_a0009_female.wav"


@pytest.fixture
def male(male_wav: Path) -> Pcm:
    return extract_audio(male_wav, 16_000)


@pytest.fixture
def female(female_wav: Path) -> Pcm:
    return extract_audio(female_wav, 16_000)


@pytest.fixture
def store() -> PersonaStore:
    return PersonaStore()


MakePersona = Callable[..., Persona]


@pytest.fixture
def make_persona(store: PersonaStore) -> MakePersona:
    """A stored persona whose voice samples are the given files (no photos: voice tests need none)."""

    def make(name: str, voices: list[Path]) -> Persona:
        return add_persona(store, name, voices)

    return make
