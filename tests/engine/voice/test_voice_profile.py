"""Voice profiles from real speech: pitch statistics, envelope, and samples flagged with their reasons."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import pyworld

from layer_desktop.engine.media.audio import Pcm
from layer_desktop.engine.personas import PersonaStore
from layer_desktop.engine.voice import (
    VoiceProfile,
    build_profile,
    check_sample,
    profile_persona,
    stored_profile,
)
from layer_desktop.errors import NoVoiceSamplesError
from tests.engine.voice.conftest import MakePersona


def _pcm(x: np.ndarray, rate: int = 16_000) -> Pcm:
    return Pcm(np.asarray(x, np.float32).reshape(1, -1), rate, 0.0, rate, 1)


def _harvest_median(pcm: Pcm) -> float:
    f0, _ = pyworld.harvest(pcm.mono.astype(np.float64), pcm.rate, f0_floor=60, f0_ceil=600)
    return float(np.median(f0[f0 > 0]))


def test_profile_of_each_speaker_matches_an_independent_pitch_tracker(male: Pcm, female: Pcm) -> None:
    for pcm in (male, female):
        profile = build_profile([pcm])
        assert profile.f0_median_hz == pytest.approx(_harvest_median(pcm), rel=0.05)
        assert profile.f0_p5_hz < profile.f0_median_hz < profile.f0_p95_hz
        assert 0.4 < profile.voiced_ratio < 0.95
        assert 2.5 < profile.speech_s <= pcm.duration
        assert profile.loudness_lufs is not None and -35 < profile.loudness_lufs < -10
        assert len(profile.envelope_db) == 48 and len(profile.formants_hz) >= 2
        assert profile.samples[0].usable and profile.samples[0].issues == ()
    assert build_profile([female]).f0_median_hz > 1.3 * build_profile([male]).f0_median_hz


def test_profile_is_json_and_survives_a_round_trip(female: Pcm) -> None:
    profile = build_profile([female])
    text = json.dumps(profile.to_dict())
    assert VoiceProfile.from_dict(json.loads(text)) == profile


def test_bad_samples_are_flagged_with_reasons(male: Pcm, female: Pcm) -> None:
    x = male.mono
    silent = check_sample(_pcm(np.zeros(32_000)), "silence.wav")
    short = check_sample(_pcm(x[8000:20000]), "short.wav")
    clipped = check_sample(_pcm(np.clip(x * 8, -1, 1)), "clipped.wav")
    two = check_sample(_pcm(np.concatenate([x, female.mono])), "two.wav")
    assert [i.code for i in silent.issues] == ["silent"] and not silent.usable
    assert [i.code for i in short.issues] == ["too_short"] and "0.8 s of speech" in short.issues[0].message
    assert [i.code for i in clipped.issues] == ["clipped"] and not clipped.usable
    assert "% of the samples are at full scale" in clipped.issues[0].message
    assert [i.code for i in two.issues] == ["several_speakers"]
    assert "two speakers" in two.issues[0].message
    assert check_sample(male).usable and check_sample(female).usable
    slightly = x.copy()
    slightly[20000:20200] = 1.0  # 0.3 % of the samples at full scale: reported, but still used
    light = check_sample(_pcm(slightly))
    assert [i.code for i in light.issues] == ["clipped"] and light.usable


def test_unusable_samples_are_left_out_and_none_usable_is_an_error(male: Pcm, female: Pcm) -> None:
    clipped = _pcm(np.clip(male.mono * 8, -1, 1))
    profile = build_profile([clipped, female], ["clipped.wav", "good.wav"])
    assert profile.f0_median_hz == pytest.approx(build_profile([female]).f0_median_hz)
    assert [s.usable for s in profile.samples] == [False, True]
    with pytest.raises(NoVoiceSamplesError) as caught:
        build_profile([clipped, _pcm(np.zeros(16_000))], ["clipped.wav", "silence.wav"])
    assert "clipped.wav: clipped" in str(caught.value) and "silence.wav: silent" in str(caught.value)
    with pytest.raises(NoVoiceSamplesError):
        build_profile([])


def test_profile_persona_stores_the_profile_on_the_persona(
    store: PersonaStore, make_persona: MakePersona, female_wav: Path
) -> None:
    persona = make_persona("Sally", [female_wav])
    assert stored_profile(store, persona.id) is None
    profile = profile_persona(store, persona.id)
    saved = store.get(persona.id).voice_profiles["world"]
    assert saved["f0_median_hz"] == profile.f0_median_hz and saved["samples"][0]["name"] == female_wav.name
    assert stored_profile(store, "Sally") == profile
    empty = make_persona("Mute", [])
    with pytest.raises(NoVoiceSamplesError, match="has no voice samples"):
        profile_persona(store, empty.id)
