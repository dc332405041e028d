"""System text to speech (eSpeak NG): PCM with word and phoneme timings, and in a persona's voice."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import pyworld

from layer_desktop.engine.personas import PersonaStore
from layer_desktop.engine.voice import synthesize
from layer_desktop.engine.voice.espeak import find_library
from layer_desktop.errors import InputError
from tests.conftest import require_component
from tests.engine.voice.conftest import MakePersona

TEXT = "He turned sharply, and faced Gregson across the table."


@pytest.fixture(autouse=True)
def _espeak() -> None:
    require_component(
        "espeak-ng", find_library() is not None, "apt install espeak-ng (scripts/apt-packages.txt)"
    )


def test_system_speech_has_word_and_phoneme_timings() -> None:
    speech = synthesize(TEXT, None, backend="system")
    x, rate = speech.pcm.mono, speech.pcm.rate
    assert speech.backend == "system" and rate == 22_050 and 2.0 < speech.pcm.duration < 6.0
    assert [w.text for w in speech.words] == [w.strip(",.") for w in TEXT.split()]
    starts = [w.start_s for w in speech.words]
    assert starts == sorted(starts) and all(
        0 <= w.start_s < w.end_s <= speech.pcm.duration for w in speech.words
    )
    assert len(speech.phonemes) > 30 and all(p.end_s > p.start_s for p in speech.phonemes)

    def level(a: float, b: float) -> float:
        seg = x[int(a * rate) : int(b * rate)]
        return float(np.sqrt(np.mean(seg**2))) if seg.size else 0.0

    # Sound where the words are; near silence in the pause after "sharply," and after the last word.
    assert all(level(w.start_s, w.end_s) > 0.02 for w in speech.words)
    pause = (speech.words[2].end_s + 0.03, speech.words[3].start_s - 0.03)
    assert pause[1] > pause[0] and level(*pause) < 0.2 * level(speech.words[2].start_s, speech.words[2].end_s)
    assert level(speech.words[-1].end_s + 0.05, speech.pcm.duration) < 0.01


def test_system_speech_in_a_persona_voice_keeps_length_and_timings(
    store: PersonaStore, make_persona: MakePersona, male_wav: Path
) -> None:
    persona = make_persona("Alan", [male_wav])
    plain = synthesize(TEXT, None, backend="system")
    voiced = synthesize(TEXT, persona.id, backend="system", store=store)
    # eSpeak NG may differ by a few samples from run to run; the converter itself adds nothing.
    assert abs(voiced.pcm.duration - plain.pcm.duration) < 0.005
    assert [w.text for w in voiced.words] == [w.text for w in plain.words]
    assert np.allclose([w.start_s for w in voiced.words], [w.start_s for w in plain.words], atol=0.01)
    f0, _ = pyworld.harvest(voiced.pcm.mono.astype(np.float64), voiced.pcm.rate, f0_floor=60, f0_ceil=600)
    target = store.get(persona.id).voice_profiles["world"]["f0_median_hz"]
    assert np.median(f0[f0 > 0]) == pytest.approx(target, rel=0.1)
    with pytest.raises(InputError, match="no text"):
        synthesize("   ", None, backend="system")
