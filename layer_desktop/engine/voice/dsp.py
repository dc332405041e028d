"""Small signal helpers shared by the voice modules: resampling, frame levels, runs, channel handling."""

from __future__ import annotations

import itertools
import math

import numpy as np
from numpy.typing import NDArray
from scipy.signal import resample_poly

from layer_desktop.engine.media.audio import Pcm

F64 = NDArray[np.float64]
Mask = NDArray[np.bool_]

ANALYSIS_RATE = 16_000  # profiles, pitch tracking and voice activity all work on 16 kHz mono
FRAME_MS = 5.0  # one analysis frame every 5 ms (WORLD's default frame period)
SILENCE_DB = -120.0


def mono64(pcm: Pcm) -> F64:
    """The mid (mean of the channels) as float64, the type WORLD wants."""
    return np.asarray(np.asarray(pcm.samples, dtype=np.float64).mean(axis=0), dtype=np.float64)


def resample(x: F64, src_rate: int, dst_rate: int) -> F64:
    """Band-limited polyphase resampling; the result has round(len * dst / src) samples."""
    if src_rate == dst_rate:
        return x
    g = math.gcd(src_rate, dst_rate)
    y = np.asarray(resample_poly(x, dst_rate // g, src_rate // g), dtype=np.float64)
    want = round(x.size * dst_rate / src_rate)
    return fit_length(y, want)


def fit_length(y: F64, n: int) -> F64:
    """``y`` cut or zero-padded to exactly ``n`` samples."""
    if y.size >= n:
        return y[:n]
    return np.concatenate([y, np.zeros(n - y.size)])


def frame_count(n_samples: int, rate: int, frame_ms: float = FRAME_MS) -> int:
    """How many frames WORLD's dio returns for ``n_samples`` (frames at 0, hop, 2·hop, … ≤ duration)."""
    return int(1000.0 * n_samples / rate / frame_ms) + 1


def frame_db(x: F64, rate: int, frames: int, frame_ms: float = FRAME_MS, window_s: float = 0.025) -> F64:
    """RMS level in dBFS of a ``window_s`` window centred on each frame (frame i at i·frame_ms)."""
    if x.size == 0:
        return np.full(frames, SILENCE_DB)
    cs = np.concatenate([[0.0], np.cumsum(x * x)])
    centres = np.round(np.arange(frames) * frame_ms / 1000.0 * rate).astype(np.int64)
    half = max(1, round(window_s * rate / 2))
    a = np.clip(centres - half, 0, x.size)
    b = np.clip(centres + half, 0, x.size)
    mean_square = (cs[b] - cs[a]) / np.maximum(b - a, 1)
    return np.asarray(10.0 * np.log10(np.maximum(mean_square, 1e-12)), dtype=np.float64)


def runs(mask: Mask) -> list[tuple[int, int]]:
    """(start, stop) index pairs of the True runs in ``mask``."""
    padded = np.concatenate([[False], mask.astype(bool), [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def close_gaps(mask: Mask, max_gap: int) -> Mask:
    """Fill False runs of at most ``max_gap`` frames that lie between two True runs."""
    out = mask.copy()
    spans = runs(mask)
    for (_, stop), (start, _) in itertools.pairwise(spans):
        if start - stop <= max_gap:
            out[stop:start] = True
    return out


def rms(x: F64) -> float:
    return float(np.sqrt(np.mean(x * x))) if x.size else 0.0


def to_dbfs(value: float) -> float:
    return 20.0 * math.log10(value) if value > 0 else SILENCE_DB


def with_mid(pcm: Pcm, old_mid: F64, new_mid: F64) -> Pcm:
    """``pcm`` with its mid replaced: the change of the mid is added to every channel.

    Mono comes back as ``new_mid``; dual-mono stereo as ``new_mid`` in both channels; where the mid is
    unchanged (music, silence) every channel keeps its original samples exactly.
    """
    delta = (new_mid - old_mid).astype(np.float32)
    samples = np.ascontiguousarray(pcm.samples + delta[np.newaxis, :], dtype=np.float32)
    return Pcm(samples, pcm.rate, pcm.start, pcm.source_rate, pcm.source_channels)


def pcm_from_mono(x: F64, rate: int, start: float = 0.0) -> Pcm:
    """A mono ``Pcm`` holding ``x`` (as float32)."""
    samples = np.asarray(x, dtype=np.float32).reshape(1, -1)
    return Pcm(np.ascontiguousarray(samples), rate, start, rate, 1)
