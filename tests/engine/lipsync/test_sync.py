"""The weight-free sync measure on signals with a known lag."""

from __future__ import annotations

import numpy as np
import pytest

from layer_desktop.engine.lipsync.sync import (
    band_pass,
    loudness_per_frame,
    measure_sync,
    mouth_opening,
    overall,
    windows,
)


def _speechlike(frames: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = np.convolve(rng.normal(size=frames + 8), np.hanning(5), mode="same")[:frames]
    return np.asarray(x, np.float64)


@pytest.mark.parametrize("lag", [-7, -4, 0, 3, 4, 9])
def test_the_offset_is_the_lag_of_the_sound_behind_the_mouth(lag: int) -> None:
    mouth = _speechlike(300, 1)
    sound = np.roll(mouth, lag) + 0.2 * _speechlike(300, 2)  # sound[t + lag] = mouth[t]
    results = measure_sync(mouth, sound, 25.0)
    assert len(results) == 3  # 12 s at 25 fps: 6 s windows overlapping by half
    assert all(r.offset == lag for r in results)
    assert overall(results)[0] == lag


def test_unrelated_sound_gives_lower_confidence() -> None:
    mouth = _speechlike(200, 3)
    right = overall(measure_sync(mouth, mouth + 0.3 * _speechlike(200, 4), 25.0))[1]
    wrong = overall(measure_sync(mouth, _speechlike(200, 5), 25.0))[1]
    assert right > 0.5 > wrong


def test_windows_cover_the_clip_and_short_clips_are_one_window() -> None:
    assert windows(100, 25.0) == [(0, 100)]
    spans = windows(1000, 25.0)
    assert spans[0] == (0, 150) and spans[-1][1] == 1000
    assert all(4 * 25 <= b - a <= 8 * 25 for a, b in spans)


def test_a_still_mouth_has_no_confidence_and_gaps_are_bridged() -> None:
    results = measure_sync(np.full(100, 0.05), _speechlike(100, 6), 25.0)
    assert results[0].confidence == 0.0
    series = _speechlike(100, 7)
    series[10:14] = np.nan
    assert np.isfinite(band_pass(series, 25.0)).all()


def test_loudness_and_mouth_opening_measures() -> None:
    rate, fps = 16_000, 25.0
    x = np.zeros(rate)
    x[rate // 2 :] = 0.5 * np.sin(np.arange(rate // 2) * 0.3)
    loud = loudness_per_frame(x, rate, fps, 25)
    assert loud[0] == pytest.approx(np.log(1e-4)) and loud[-1] == pytest.approx(
        np.log(0.5 / np.sqrt(2)), abs=0.01
    )
    lm = np.zeros((468, 3), np.float32)
    lm[[33, 133], 0], lm[[263, 362], 0] = 0.0, 60.0  # eye centres 60 px apart
    lm[13, 1], lm[14, 1] = 100.0, 115.0  # a 15 px gap
    assert mouth_opening(lm) == pytest.approx(0.25)
