"""Voice analysis at 16 kHz: pitch track (WORLD dio + stonemask), f0 statistics, spectral envelope,
formant estimate, and the formant ratio between two voices.

The spectral envelope is the cepstrally smoothed log spectrum averaged over voiced frames and sampled
on a fixed mel-spaced grid, so envelopes of different recordings (and of a profile stored months ago)
compare point by point. The formant ratio is the frequency-axis stretch that best lines up two such
envelopes (spectral tilt removed), searched over a bounded range.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyworld

from layer_desktop.engine.voice.dsp import ANALYSIS_RATE, F64, FRAME_MS, Mask

F0_FLOOR_HZ = 60.0
F0_CEIL_HZ = 600.0
ENVELOPE_FREQS_HZ: tuple[float, ...] = tuple(
    float(f) for f in 700.0 * (10 ** (np.linspace(np.log10(1 + 100 / 700), np.log10(1 + 7000 / 700), 48)) - 1)
)
_ENV_FFT = 512  # 32 ms at 16 kHz
_LIFTER = 24  # cepstral coefficients kept: 1.5 ms, below the pitch period of voices up to ~650 Hz
_MAX_ENV_FRAMES = 3000
_RATIO_BAND_HZ = (200.0, 5000.0)


@dataclass(frozen=True)
class PitchTrack:
    f0: F64  # Hz per frame, 0 where unvoiced
    frame_ms: float

    @property
    def voiced(self) -> Mask:
        return np.asarray(self.f0 > 0, dtype=bool)


def track_pitch(x: F64, rate: int = ANALYSIS_RATE, frame_ms: float = FRAME_MS) -> PitchTrack:
    """f0 per frame by WORLD dio refined with stonemask (fast; harvest is kept for independent checks)."""
    if x.size == 0:
        return PitchTrack(np.zeros(1), frame_ms)
    x = np.ascontiguousarray(x, dtype=np.float64)
    f0, t = pyworld.dio(x, rate, f0_floor=F0_FLOOR_HZ, f0_ceil=F0_CEIL_HZ, frame_period=frame_ms)
    f0 = pyworld.stonemask(x, f0, t, rate)
    return PitchTrack(np.asarray(f0, dtype=np.float64), frame_ms)


@dataclass(frozen=True)
class F0Stats:
    median_hz: float
    p5_hz: float
    p95_hz: float
    log_median: float  # natural log of Hz
    log_scale: float  # robust standard deviation of log f0 (IQR / 1.349)
    voiced_frames: int


def f0_stats(f0: F64) -> F0Stats | None:
    """Statistics of the voiced frames of ``f0``; None when fewer than 10 frames are voiced."""
    v = f0[f0 > 0]
    if v.size < 10:
        return None
    logs = np.log(v)
    q25, q75 = np.percentile(logs, [25, 75])
    return F0Stats(
        median_hz=float(np.median(v)),
        p5_hz=float(np.percentile(v, 5)),
        p95_hz=float(np.percentile(v, 95)),
        log_median=float(np.median(logs)),
        log_scale=max(float(q75 - q25) / 1.349, 1e-3),
        voiced_frames=int(v.size),
    )


def envelope_db(x: F64, voiced: Mask, frame_ms: float = FRAME_MS) -> F64 | None:
    """Mean smoothed log spectrum (dB, mean removed) of the voiced frames on ``ENVELOPE_FREQS_HZ``.

    ``x`` is 16 kHz mono; ``voiced`` is per frame. None when there are no voiced frames.
    """
    idx = np.flatnonzero(voiced)
    if idx.size == 0 or x.size < _ENV_FFT:
        return None
    if idx.size > _MAX_ENV_FRAMES:
        idx = idx[np.linspace(0, idx.size - 1, _MAX_ENV_FRAMES).astype(np.int64)]
    centres = np.round(idx * frame_ms / 1000.0 * ANALYSIS_RATE).astype(np.int64)
    starts = np.clip(centres - _ENV_FFT // 2, 0, x.size - _ENV_FFT)
    frames = x[starts[:, None] + np.arange(_ENV_FFT)[None, :]] * np.hanning(_ENV_FFT)[None, :]
    log_power = np.log(np.abs(np.fft.rfft(frames, axis=1)) ** 2 + 1e-10)
    cep = np.fft.irfft(log_power, axis=1)
    cep[:, _LIFTER:-_LIFTER] = 0.0
    smooth = np.fft.rfft(cep, axis=1).real * (10.0 / np.log(10.0))  # natural log power → dB
    mean = smooth.mean(axis=0)
    bins = np.fft.rfftfreq(_ENV_FFT, 1.0 / ANALYSIS_RATE)
    env = np.interp(np.asarray(ENVELOPE_FREQS_HZ), bins, mean)
    return np.asarray(env - env.mean(), dtype=np.float64)


def formant_peaks(env: F64, count: int = 3) -> tuple[float, ...]:
    """The first ``count`` local maxima of the envelope between 200 and 4000 Hz: a formant estimate."""
    f = np.asarray(ENVELOPE_FREQS_HZ)
    inside = (f >= 200) & (f <= 4000)
    peaks = [
        float(f[i])
        for i in range(1, f.size - 1)
        if inside[i] and env[i] > env[i - 1] and env[i] >= env[i + 1]
    ]
    return tuple(round(p, 1) for p in peaks[:count])


def _detrended(values: F64, logf: F64) -> F64:
    slope, intercept = np.polyfit(logf, values, 1)
    return np.asarray(values - (slope * logf + intercept), dtype=np.float64)


def formant_ratio(source: F64, target: F64, lo: float = 0.8, hi: float = 1.25) -> float:
    """The stretch α of the frequency axis (target(f) ≈ source(f / α)) that best aligns two envelopes."""
    f = np.asarray(ENVELOPE_FREQS_HZ)
    band = (f >= _RATIO_BAND_HZ[0]) & (f <= _RATIO_BAND_HZ[1])
    logf = np.log(f[band])
    tgt = _detrended(target[band], logf)
    best, best_score = 1.0, -np.inf
    for alpha in np.arange(lo, hi + 1e-9, 0.005):
        warped = _detrended(np.interp(f[band] / alpha, f, source), logf)
        score = float(np.dot(warped, tgt) / (np.linalg.norm(warped) * np.linalg.norm(tgt) + 1e-12))
        if score > best_score:
            best, best_score = float(alpha), score
    return round(best, 3)
