"""Phonemes → Rhubarb mouth shapes → per-frame parameters, with the timing rules."""

from __future__ import annotations

import numpy as np
import pytest

from layer_desktop.engine.lipsync.phonemes import read_labels
from layer_desktop.engine.lipsync.visemes import (
    PARAMS,
    frame_params,
    params_from_loudness,
    shapes_from_phones,
    viseme_of,
)
from layer_desktop.engine.voice.speech import Timing
from tests.conftest import SHARED_MEDIA


def test_phonemes_map_to_shapes_in_arpabet_and_espeak() -> None:
    assert [viseme_of(p) for p in ("M", "b", "P1", "aa", "AE", "uw", "f", "l", "sil")] == list("AAADCFGHX")
    assert [viseme_of(p) for p in ("m", "'a", "u:", "v", "_:", "s")] == list("ADFGXB")


def test_closure_starts_early_short_pauses_keep_and_long_pauses_rest() -> None:
    phones = [
        Timing("aa", 0.20, 0.50),
        Timing("b", 0.50, 0.56),
        Timing("aa", 0.56, 0.80),
        # 0.80–0.90 a 100 ms gap: keeps the vowel; 0.90.. "iy", then a 250 ms gap: relaxed
        Timing("iy", 0.90, 1.10),
        Timing("m", 1.35, 1.45),
        Timing("aa", 1.45, 1.60),
    ]
    shapes = shapes_from_phones(phones, 3.0)
    names = "".join(s.shape for s in shapes)
    assert names == "XDADBRADX"
    closure = shapes[2]
    assert closure.start_s == pytest.approx(0.38)  # 120 ms before the /b/ (the vowel before keeps 180 ms)
    assert shapes[3].start_s == pytest.approx(0.56)
    assert shapes[3].end_s == pytest.approx(0.90)  # the 100 ms gap kept the D shape going (merged)
    relaxed = shapes[5]
    assert relaxed.start_s == pytest.approx(1.10) and relaxed.end_s == pytest.approx(1.35 - 0.12)
    assert shapes[-1].shape == "X" and shapes[-1].start_s == pytest.approx(1.60)
    assert all(s.length >= 0.07 - 1e-9 for s in shapes)


def test_a_tiny_shape_is_stretched_to_70_ms() -> None:
    shapes = shapes_from_phones(
        [Timing("aa", 0.1, 0.4), Timing("l", 0.4, 0.42), Timing("iy", 0.42, 0.7)], 1.0
    )
    h = next(s for s in shapes if s.shape == "H")
    assert h.length == pytest.approx(0.07)


def test_frames_average_the_shapes_over_their_interval() -> None:
    phones = [Timing("aa", 0.0, 0.2), Timing("m", 0.2, 0.4)]
    params = frame_params(shapes_from_phones(phones, 0.4), 25.0, 10)
    assert params.shape == (10, 3)
    assert params[0, 0] == pytest.approx(PARAMS["D"][0])
    assert params[8, 0] == pytest.approx(0.0)  # inside the closure
    assert 0.0 < params[2, 0] < PARAMS["D"][0] or 0.0 < params[1, 0] < PARAMS["D"][0]  # a blended frame


def test_the_kit_label_file_reads_as_phones() -> None:
    phones = read_labels(SHARED_MEDIA / "audio" / "arctic_a0009_phone.lab")
    assert len(phones) == 40
    assert phones[0].text == "sil" and phones[0].end_s == pytest.approx(0.13)
    assert [p.text for p in phones[1:4]] == ["hh", "iy", "t"]
    assert phones[-1].text == "sil" and phones[-1].start_s == pytest.approx(2.925)


def test_loudness_alone_opens_with_the_sound() -> None:
    loud = np.log(np.array([1e-4, 1e-4, 0.1, 0.3, 0.1, 1e-4]))
    params = params_from_loudness(loud)
    assert params[0, 0] == 0.0 and params[3, 0] > params[2, 0] > 0.0
