"""Loudness (BS.1770 via pyloudnorm) and the silence splitter / re-joiner used for cloud conversion."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from layer_desktop.engine.media.audio import Pcm
from layer_desktop.engine.voice import measure_loudness, normalise_loudness, true_peak_dbfs
from layer_desktop.engine.voice.split import align, join, plan_pieces
from layer_desktop.errors import InputError


def _mono(x: np.ndarray, rate: int = 48_000) -> Pcm:
    return Pcm(np.asarray(x, np.float32).reshape(1, -1), rate, 0.0, rate, 1)


def test_a_1khz_sine_measures_as_bs1770_says() -> None:
    t = np.arange(48_000 * 3) / 48_000
    # BS.1770: a 0 dBFS 1 kHz sine in one channel reads -3.01 LKFS; at half amplitude 6.02 dB lower.
    assert measure_loudness(_mono(0.5 * np.sin(2 * np.pi * 1000 * t))) == pytest.approx(-9.03, abs=0.1)
    assert measure_loudness(_mono(np.zeros(48_000))) == -np.inf
    with pytest.raises(InputError):
        measure_loudness(_mono(np.zeros(0)))


@pytest.mark.parametrize("target", [-23.0, -12.0])  # -12: the limiter has to work
def test_normalise_hits_the_target_under_the_true_peak_ceiling(male: Pcm, target: float) -> None:
    out = normalise_loudness(male, target, -1.0)
    assert out.samples.shape == male.samples.shape and out.rate == male.rate
    assert measure_loudness(out) == pytest.approx(target, abs=0.5)
    assert true_peak_dbfs(out.samples, out.rate) <= -1.0 + 0.05
    silent = _mono(np.zeros(16_000), 16_000)
    assert normalise_loudness(silent).samples is silent.samples


def test_pieces_cover_everything_and_an_identity_round_trip_is_exact(male: Pcm) -> None:
    x = np.tile(male.mono.astype(np.float64), 20)  # 80 s
    pieces = plan_pieces(x, 16_000, max_piece_s=30.0)
    assert pieces[0].start == 0 and pieces[-1].stop == x.size
    assert all(a.stop == b.start for a, b in itertools.pairwise(pieces))
    assert all(p.send_stop - p.send_start <= 30 * 16_000 for p in pieces)
    sent = [x[p.send_start : p.send_stop] for p in pieces]
    np.testing.assert_allclose(join(pieces, sent, x.size, 16_000), x, atol=1e-12)


def test_align_undoes_a_service_delay(male: Pcm) -> None:
    x = male.mono.astype(np.float64)
    late = np.concatenate([np.zeros(1600), 0.7 * x])  # 100 ms late and longer
    np.testing.assert_allclose(align(x, late, 16_000), 0.7 * x, atol=1e-9)
    early = 0.7 * x[480:]  # 30 ms early and shorter
    np.testing.assert_allclose(align(x, early, 16_000)[480:], 0.7 * x[480:], atol=1e-9)
