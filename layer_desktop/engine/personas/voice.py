"""Voice samples: decode with PyAV to 16 kHz mono float32 and measure duration and loudness."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from layer_desktop.engine.media.audio import extract_audio
from layer_desktop.errors import NoAudioStreamError

log = logging.getLogger(__name__)

ANALYSIS_RATE = 16_000
SILENCE_DBFS = -120.0


@dataclass(frozen=True)
class VoiceAnalysis:
    duration_s: float
    sample_rate: int
    channels: int
    rms_dbfs: float
    peak_dbfs: float


def read_mono(path: Path, rate: int = ANALYSIS_RATE) -> tuple[NDArray[np.float32], int, int]:
    """Decode the first audio track as mono float32 at ``rate``.

    Returns (samples, source sample rate, source channels). Raises ``NoAudioStreamError`` for a file
    with no sound, and another ``MediaError`` subclass (naming the file) when it is empty, damaged,
    cut short or not a media file.
    """
    pcm = extract_audio(path, rate)
    samples = pcm.mono
    if samples.size == 0:
        raise NoAudioStreamError(f"{path} has an audio track with no sound in it (0 samples).", path=path)
    return samples, pcm.source_rate, pcm.source_channels


def to_dbfs(value: float) -> float:
    return 20.0 * math.log10(value) if value > 0 else SILENCE_DBFS


def analyse_voice(path: Path) -> VoiceAnalysis:
    """Duration, source rate/channels, RMS and peak level of a voice sample. Raises as ``read_mono``."""
    samples, source_rate, channels = read_mono(path)
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
    peak = float(np.max(np.abs(samples)))
    return VoiceAnalysis(
        duration_s=samples.size / ANALYSIS_RATE,
        sample_rate=source_rate,
        channels=channels,
        rms_dbfs=round(to_dbfs(rms), 2),
        peak_dbfs=round(to_dbfs(peak), 2),
    )
