"""The mel front end the wav2lip / EDTalk ONNX exports were trained with, and per-frame mel windows.

16 kHz mono, pre-emphasis 0.97, STFT n_fft 800 / hop 200 (periodic Hann, centred with zero padding,
magnitude scaled by the window sum as ``scipy.signal.stft`` does), 80 HTK-mel triangles 55–7600 Hz,
then ``clip(log10(max(x, 1e-5)) * 1.6 + 3.2, -4, 4)``. Video frame ``n`` at ``fps`` takes the 16 mel
columns starting at ``int(n * 80 / fps)`` (80 columns a second: a 200 ms window from the frame's time);
columns past the end are silence (-4). Indices are int64: an int16 index wraps after 409.6 s.
"""

from __future__ import annotations

import functools

import numpy as np
from numpy.typing import NDArray

RATE = 16_000
N_FFT = 800
HOP = 200
N_MELS = 80
F_MIN, F_MAX = 55.0, 7600.0
WINDOW_COLUMNS = 16
COLUMNS_PER_SECOND = RATE / HOP  # 80
SILENCE = -4.0
F32 = NDArray[np.float32]


def _hz_to_mel(hz: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.asarray(2595.0 * np.log10(1.0 + hz / 700.0))


def _mel_to_hz(mel: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.asarray(700.0 * (10.0 ** (mel / 2595.0) - 1.0))


@functools.cache
def mel_filters() -> NDArray[np.float64]:
    """(80, 401) triangular filters with unit peaks on the STFT bins."""
    edges = _mel_to_hz(np.linspace(_hz_to_mel(np.array(F_MIN)), _hz_to_mel(np.array(F_MAX)), N_MELS + 2))
    bins = np.arange(N_FFT // 2 + 1) * RATE / N_FFT
    lo, mid, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (bins[None] - lo) / (mid - lo)
    falling = (hi - bins[None]) / (hi - mid)
    return np.asarray(np.clip(np.minimum(rising, falling), 0.0, None))


def mel_spectrogram(samples: NDArray[np.floating]) -> F32:
    """(80, columns) normalised log-mel of 16 kHz mono ``samples``; one column per 12.5 ms."""
    x = np.asarray(samples, dtype=np.float64)
    if x.size == 0:
        return np.full((N_MELS, 0), SILENCE, np.float32)
    x = np.append(x[0], x[1:] - 0.97 * x[:-1])
    padded = np.pad(x, N_FFT // 2)
    count = 1 + (padded.size - N_FFT) // HOP
    if count < 1:
        padded = np.pad(padded, (0, N_FFT - padded.size))
        count = 1
    window = np.hanning(N_FFT + 1)[:-1]  # periodic Hann
    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP][:count]
    spectrum = np.abs(np.fft.rfft(frames * window, axis=1)) / window.sum()
    mel = mel_filters() @ spectrum.T
    return np.asarray(np.clip(np.log10(np.maximum(mel, 1e-5)) * 1.6 + 3.2, -4.0, 4.0), np.float32)


def window_start(frame: int | NDArray[np.integer], fps: float) -> NDArray[np.int64]:
    """The first mel column of video frame ``frame`` (int64, so long inputs never wrap)."""
    n = np.asarray(frame, dtype=np.int64)
    return np.asarray(np.floor(n.astype(np.float64) * COLUMNS_PER_SECOND / fps), dtype=np.int64)


def mel_window(mel: F32, frame: int, fps: float) -> F32:
    """The (80, 16) window of video frame ``frame``; columns past the audio's end are silence."""
    start = int(window_start(frame, fps))
    out = np.full((N_MELS, WINDOW_COLUMNS), SILENCE, np.float32)
    part = mel[:, start : start + WINDOW_COLUMNS] if start >= 0 else mel[:, :0]
    out[:, : part.shape[1]] = part
    return out


def frame_count(seconds: float, fps: float) -> int:
    """Video frames that cover ``seconds`` of audio at ``fps`` (rounded to the nearest frame)."""
    return round(seconds * fps)


def mel_windows(samples: NDArray[np.floating], fps: float, frames: int | None = None) -> F32:
    """(frames, 80, 16) windows for every video frame of 16 kHz mono ``samples``."""
    mel = mel_spectrogram(samples)
    total = frame_count(len(samples) / RATE, fps) if frames is None else frames
    return (
        np.stack([mel_window(mel, n, fps) for n in range(total)])
        if total
        else np.zeros((0, 80, 16), np.float32)
    )
