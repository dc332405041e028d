"""Phoneme timings: pocketsphinx forced alignment of a transcript, and eSpeak NG's own events."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from layer_desktop.engine.lipsync.driver import mouth_track
from layer_desktop.engine.lipsync.phonemes import align_transcript, read_labels
from layer_desktop.engine.lipsync.visemes import shapes_from_phones
from layer_desktop.engine.media.audio import extract_audio
from layer_desktop.engine.voice.espeak import find_library
from layer_desktop.engine.voice.tts import SystemSpeech
from layer_desktop.errors import InputError
from tests.conftest import SHARED_MEDIA, require_component

SPEECH = SHARED_MEDIA / "audio" / "arctic_a0009_female.wav"
SAID = "He turned sharply, and faced Gregson across the table."


def test_alignment_of_the_transcript_matches_the_kit_labels() -> None:
    require_component(
        "pocketsphinx", importlib.util.find_spec("pocketsphinx") is not None, "pip install pocketsphinx"
    )
    phones = align_transcript(extract_audio(SPEECH, 16_000).mono, SAID)
    truth = [p for p in read_labels(SHARED_MEDIA / "audio" / "arctic_a0009_phone.lab") if p.text != "sil"]
    # the two closures (/p/ in "sharply", /b/ in "table") land within 30 ms of the hand labels
    for phone in ("p", "b"):
        aligned = next(p for p in phones if p.text.lower() == phone)
        want = next(p for p in truth if p.text == phone)
        assert abs(aligned.start_s - want.start_s) < 0.03, phone
    words = [p.text.lower() for p in phones if p.text != "SIL"]
    assert len(words) == len(truth)
    with pytest.raises(InputError):
        align_transcript(np.zeros(16_000, np.float32), "  !! ")


def test_espeak_phonemes_drive_closures_where_the_lips_meet() -> None:
    require_component("libespeak-ng", find_library() is not None, "apt-get install espeak-ng")
    speech = SystemSpeech().synthesize("Bob may pop by.", None, None)  # type: ignore[arg-type]
    assert speech.phonemes
    samples = speech.pcm.mono if speech.pcm.rate == 16_000 else extract_resampled(speech)
    track = mouth_track(samples, 25.0, int(speech.pcm.duration * 25), phonemes=speech.phonemes)
    shapes = shapes_from_phones(speech.phonemes, speech.pcm.duration)
    assert sum(s.shape == "A" for s in shapes) >= 4  # b-b, m, p-p, b
    closed = track.params[:, 0] == 0.0
    assert closed.any() and (track.params[:, 0] > 0.3).any()


def extract_resampled(speech: object) -> np.ndarray:
    from layer_desktop.engine.voice.dsp import resample

    pcm = speech.pcm  # type: ignore[attr-defined]
    return np.asarray(resample(pcm.mono.astype(np.float64), pcm.rate, 16_000), np.float32)
