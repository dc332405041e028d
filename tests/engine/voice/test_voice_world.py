"""The offline ``world`` converter on real speech: pitch lands on the persona's, measured independently
(WORLD harvest, while the converter uses dio + stonemask); length and voicing timing are kept."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import numpy as np
import pytest
import pyworld
from scipy.signal import resample_poly

from layer_desktop.engine.media.audio import Pcm
from layer_desktop.engine.personas import PersonaStore
from layer_desktop.engine.voice import (
    VoiceProfile,
    build_profile,
    convert_voice,
    convert_world,
    plan_conversion,
)
from layer_desktop.errors import InputError, VoiceCancelled
from tests.engine.voice.conftest import MakePersona

UNVOICED_PHONES = {"sil", "pau", "hh", "t", "sh", "p", "f", "s", "k", "th", "ch"}


def _harvest(x: np.ndarray, rate: int) -> np.ndarray:
    f0, _ = pyworld.harvest(np.ascontiguousarray(x, dtype=np.float64), rate, f0_floor=60, f0_ceil=600)
    return f0


def _voicing(x: np.ndarray, rate: int = 16_000, threshold: float = 0.5) -> np.ndarray:
    """An independent voicing detector: normalised autocorrelation peak (60–400 Hz) of 40 ms windows
    every 5 ms, on frames within 40 dB of the loudest."""
    w, hop = int(0.04 * rate), int(0.005 * rate)
    xp = np.pad(np.asarray(x, np.float64), (w // 2, w // 2))
    n = int(len(x) / hop) + 1
    frames = np.stack([xp[i * hop : i * hop + w] for i in range(n)])
    frames -= frames.mean(axis=1, keepdims=True)
    energy = (frames**2).sum(axis=1)
    spec = np.fft.rfft(frames, 2 * w, axis=1)
    ac = np.fft.irfft(np.abs(spec) ** 2, axis=1)[:, :w]
    lags = np.arange(rate // 400, rate // 60)
    r = ac[:, lags] / (ac[:, :1] * (w - lags) / w + 1e-12)
    return (r.max(axis=1) > threshold) & (energy > energy.max() * 1e-4)


def _label_voicing(lab: Path, frames: int) -> np.ndarray:
    truth = np.zeros(frames, bool)
    for line in lab.read_text().splitlines():
        start, stop, context = line.split()[:3]
        phone = re.search(r"-(.+?)\+", context)
        if phone and phone.group(1) not in UNVOICED_PHONES:
            truth[round(int(start) / 1e7 * 200) : round(int(stop) / 1e7 * 200)] = True
    return truth


def test_male_speech_lands_on_the_female_profile_pitch_with_exact_length(male: Pcm, female: Pcm) -> None:
    target = build_profile([female])
    out = convert_world(male, target)
    assert (
        out.samples.shape == male.samples.shape and out.rate == male.rate and out.samples.dtype == np.float32
    )
    f0_out = _harvest(out.mono, out.rate)
    f0_in = _harvest(male.mono, male.rate)
    assert np.median(f0_in[f0_in > 0]) < 0.75 * target.f0_median_hz  # a real move, not a no-op
    assert np.median(f0_out[f0_out > 0]) == pytest.approx(target.f0_median_hz, rel=0.05)
    female_f0 = _harvest(female.mono, female.rate)
    assert np.median(f0_out[f0_out > 0]) == pytest.approx(np.median(female_f0[female_f0 > 0]), rel=0.05)
    plan = plan_conversion(male, target)
    assert plan is not None and 1.05 < plan.formant_ratio < 1.25  # male → female: formants move up
    assert np.max(np.abs(out.samples)) < 1.0


def test_voicing_timing_is_kept(female: Pcm, male: Pcm, media_dir: Path) -> None:
    """The female clip has phone labels: the converted speech is voiced where the phones are voiced,
    as well as the original is, and an independent detector sees the same voicing before and after."""
    out = convert_world(female, build_profile([male]))
    truth = _label_voicing(media_dir / "audio" / "arctic_a0009_phone.lab", 600)
    v_in, v_out = _voicing(female.mono)[:600], _voicing(out.mono)[:600]
    agree_in, agree_out = np.mean(v_in == truth), np.mean(v_out == truth)
    assert agree_in > 0.75 and agree_out > agree_in - 0.04
    assert np.mean(v_in == v_out) > 0.9
    back = convert_world(male, build_profile([female]))
    assert np.mean(_voicing(male.mono) == _voicing(back.mono)) > 0.8


def test_silence_and_non_speech_pass_through_untouched(male: Pcm, female: Pcm) -> None:
    rng = np.random.default_rng(1)
    hiss = rng.normal(0, 0.001, 16_000)
    x = np.concatenate([np.zeros(8000), hiss, male.mono, np.zeros(8000)]).astype(np.float32)
    pcm = Pcm(x.reshape(1, -1), 16_000, 0.0, 16_000, 1)
    out = convert_world(pcm, build_profile([female]))
    assert out.samples.shape == pcm.samples.shape
    plan = plan_conversion(pcm, build_profile([female]))
    assert plan is not None and len(plan.regions) == 1 and plan.regions[0][0] > 20_000  # after the hiss
    np.testing.assert_array_equal(out.samples[0, :20_000], pcm.samples[0, :20_000])  # silence and hiss
    np.testing.assert_array_equal(out.samples[0, -6000:], pcm.samples[0, -6000:])  # the zero tail
    assert not np.allclose(out.samples[0, 30_000:70_000], pcm.samples[0, 30_000:70_000], atol=1e-3)
    silent = Pcm(np.zeros((1, 16_000), np.float32), 16_000, 0.0, 16_000, 1)
    np.testing.assert_array_equal(convert_world(silent, build_profile([female])).samples, silent.samples)


def test_stereo_48k_keeps_channels_rate_and_length(male: Pcm, female: Pcm) -> None:
    x48 = resample_poly(male.mono.astype(np.float64), 3, 1).astype(np.float32)[:-7]  # odd length
    stereo = Pcm(np.stack([x48, x48 * 0.5]), 48_000, 1.5, 48_000, 2)
    out = convert_world(stereo, build_profile([female]))
    assert out.samples.shape == stereo.samples.shape and out.rate == 48_000 and out.start == 1.5
    f0 = _harvest(resample_poly(out.samples[0].astype(np.float64), 1, 3), 16_000)
    assert np.median(f0[f0 > 0]) == pytest.approx(build_profile([female]).f0_median_hz, rel=0.05)


def test_empty_input_and_cancel(male: Pcm, female: Pcm) -> None:
    profile: VoiceProfile = build_profile([female])
    with pytest.raises(InputError, match="0 samples"):
        convert_world(Pcm(np.zeros((1, 0), np.float32), 16_000, 0.0, 16_000, 1), profile)
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(VoiceCancelled):
        convert_world(male, profile, cancel=cancel)
    seen: list[tuple[int, int]] = []
    convert_world(male, profile, progress=lambda done, total: seen.append((done, total)))
    assert seen and seen[-1][1] == male.samples.shape[1] and all(d <= t for d, t in seen)


def test_convert_voice_profiles_the_persona_once_and_converts(
    store: PersonaStore, make_persona: MakePersona, male: Pcm, female_wav: Path
) -> None:
    persona = make_persona("Sally", [female_wav])
    out = convert_voice(male, persona.id, store=store)
    assert out.samples.shape == male.samples.shape
    stored = store.get(persona.id).voice_profiles["world"]
    f0 = _harvest(out.mono, 16_000)
    assert np.median(f0[f0 > 0]) == pytest.approx(stored["f0_median_hz"], rel=0.05)
