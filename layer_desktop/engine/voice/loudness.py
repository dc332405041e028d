"""Loudness: integrated loudness (ITU-R BS.1770 / EBU R128, via pyloudnorm) and normalisation to a target
with a true-peak ceiling.

Normalisation is one gain to the target, then a look-ahead peak limiter where the 4× oversampled
(true) peak would pass the ceiling, then a small gain correction for what the limiter took away. The
length, rate and channels never change.
"""

from __future__ import annotations

import logging
import math

import numpy as np
import pyloudnorm
from numpy.typing import NDArray
from scipy.ndimage import minimum_filter1d, uniform_filter1d
from scipy.signal import resample_poly

from layer_desktop.engine.media.audio import Pcm
from layer_desktop.errors import InputError

log = logging.getLogger(__name__)

_BLOCK_S = 0.4  # BS.1770 gating block
_OVERSAMPLE = 4
_LOOKAHEAD_S = 0.005


def measure_loudness(pcm: Pcm) -> float:
    """Integrated loudness in LUFS (BS.1770-4, K-weighted, gated). ``-inf`` for digital silence.

    Audio shorter than one 400 ms gating block is measured as if padded with silence to one block.
    """
    data = np.asarray(pcm.samples, dtype=np.float64).T  # pyloudnorm wants (samples, channels)
    if data.shape[0] == 0:
        raise InputError("Cannot measure the loudness of empty audio (0 samples).")
    block = math.ceil(_BLOCK_S * pcm.rate) + 1
    if data.shape[0] < block:
        data = np.concatenate([data, np.zeros((block - data.shape[0], data.shape[1]))])
    meter = pyloudnorm.Meter(pcm.rate)
    return float(meter.integrated_loudness(data))


def true_peak_dbfs(samples: NDArray[np.floating], rate: int) -> float:
    """The highest sample of the 4× oversampled signal (all channels), in dBFS (dBTP)."""
    peak = float(np.max(np.abs(_oversampled(np.asarray(samples, dtype=np.float64))), initial=0.0))
    return 20.0 * math.log10(peak) if peak > 0 else -math.inf


def normalise_loudness(pcm: Pcm, target_lufs: float = -16.0, true_peak_dbfs: float = -1.0) -> Pcm:
    """``pcm`` at ``target_lufs`` integrated loudness, true peak at most ``true_peak_dbfs``; same length.

    Silence comes back unchanged. Raises ``InputError`` for empty audio.
    """
    measured = measure_loudness(pcm)
    if not math.isfinite(measured):
        log.info("loudness: silent audio left unchanged")
        return pcm
    x = np.asarray(pcm.samples, dtype=np.float64) * 10 ** ((target_lufs - measured) / 20)
    ceiling = 10 ** (true_peak_dbfs / 20)
    for _ in range(8):  # limit, then make up what the limiter removed (a few rounds when it works hard)
        x = _limit(x, pcm.rate, ceiling)
        after = measure_loudness(_like(pcm, x))
        if abs(after - target_lufs) < 0.1:
            break
        x = x * 10 ** ((target_lufs - after) / 20)
    x = _limit(x, pcm.rate, ceiling)
    return _like(pcm, x)


def _like(pcm: Pcm, x: NDArray[np.float64]) -> Pcm:
    return Pcm(
        np.ascontiguousarray(x, dtype=np.float32), pcm.rate, pcm.start, pcm.source_rate, pcm.source_channels
    )


def _oversampled(x: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.asarray(resample_poly(x, _OVERSAMPLE, 1, axis=-1), dtype=np.float64)


def _limit(x: NDArray[np.float64], rate: int, ceiling: float) -> NDArray[np.float64]:
    """Look-ahead limiter: a smooth gain that keeps the true peak of every channel under ``ceiling``."""
    if x.shape[-1] == 0:
        return x
    # The true peak around each sample: the max over channels and the oversampled points near it.
    over = np.abs(_oversampled(x)).max(axis=0)
    n = x.shape[-1]
    peak = (
        np.pad(over, (0, _OVERSAMPLE * n - over.size))[: _OVERSAMPLE * n].reshape(n, _OVERSAMPLE).max(axis=1)
    )
    if float(peak.max(initial=0.0)) <= ceiling:
        return x
    need = np.minimum(1.0, ceiling * 0.999 / np.maximum(peak, 1e-12))
    width = max(1, round(_LOOKAHEAD_S * rate))
    # A min over 2w+1 then a mean over w stays ≤ the needed gain at every sample and moves smoothly.
    gain = uniform_filter1d(minimum_filter1d(need, 2 * width + 1), width)
    gain = np.minimum(gain, need)
    return np.asarray(x * gain[np.newaxis, :], dtype=np.float64)
