"""Helpers for voice tests: a stored persona whose voice samples are real files (no photos needed)."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

from layer_desktop.engine.personas import Consent, Persona, PersonaStore, VoiceSample, analyse_voice
from layer_desktop.engine.personas.records import now_iso


def add_persona(store: PersonaStore, name: str, voices: list[Path]) -> Persona:
    """Store and return a persona named ``name`` with ``voices`` as its samples."""
    samples = []
    for path in voices:
        a = analyse_voice(path)
        samples.append(
            VoiceSample(
                store.media.put_file(path), path.name, a.duration_s, a.sample_rate, a.channels,
                a.rms_dbfs, a.peak_dbfs,
            )
        )  # fmt: skip
    now = now_iso()
    persona = Persona(
        id=str(uuid.uuid4()),
        name=name,
        consent=Consent(name, dt.date(2024, 5, 1), "I agree to my voice being used for tests."),
        faces=(),
        voices=tuple(samples),
        created_at=now,
        updated_at=now,
    )
    store.add(persona)
    return persona
