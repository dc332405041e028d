"""The driving audio of a lip-sync: read at 16 kHz mono, and fitted to the video as the voice stage does."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from layer_desktop.engine.lipsync.mel import RATE
from layer_desktop.engine.media.audio import Pcm, extract_audio
from layer_desktop.engine.media.probe import probe
from layer_desktop.engine.voice.audio_file import write_audio

FALLBACK_RATE = 48_000


def driving_samples(path: str | Path) -> NDArray[np.float32]:
    """16 kHz mono samples of ``path``'s first audio track (``NoAudioStreamError`` when it has none)."""
    return extract_audio(path, RATE).mono


def fit_audio(replacement: str | Path, video: str | Path, out: Path) -> Path:
    """Write ``replacement`` to ``out`` (WAV) with the length rules of the voice stage: the source's
    sample rate, channels and exact sample count (cut, or padded with silence); a video without
    audio gets 48 kHz at the video's duration. Raises ``MediaError`` subclasses for unusable input."""
    info = probe(video)
    track = info.audio
    if track is not None:
        source = extract_audio(video, track.sample_rate, channels=min(2, track.channels))
        rate, channels, length = source.rate, int(source.samples.shape[0]), int(source.samples.shape[1])
    else:
        rate, channels = FALLBACK_RATE, 1
        length = round(float(info.duration or 0.0) * rate)
    new = extract_audio(replacement, rate, channels=channels)
    samples = np.zeros((channels, length), np.float32)
    n = min(length, int(new.samples.shape[1]))
    samples[:, :n] = new.samples[:, :n]
    out.parent.mkdir(parents=True, exist_ok=True)
    return write_audio(out, Pcm(samples, rate, 0.0, rate, channels))
