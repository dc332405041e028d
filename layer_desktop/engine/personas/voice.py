"""Voice samples: decode with PyAV to 16 kHz mono float32 and measure duration and loudness."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

import av
import av.container
import numpy as np
from numpy.typing import NDArray

from layer_desktop.engine.media.opening import audio_stream, decode_error, open_input
from layer_desktop.errors import CorruptMediaError, NoAudioStreamError

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
    with no sound, and another ``MediaError`` subclass (naming the file) when it is empty, damaged or
    not a media file.
    """
    chunks: list[NDArray[np.float32]] = []
    with open_input(path) as container:
        stream = audio_stream(container, path)
        stream.codec_context.thread_type = "AUTO"
        source_rate = int(stream.codec_context.sample_rate or 0)
        channels = int(stream.codec_context.channels or 0)
        expected_s = _declared_seconds(container, stream)
        resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
        try:
            for frame in container.decode(stream):
                chunks.extend(_plane(f) for f in resampler.resample(frame))
            chunks.extend(_plane(f) for f in resampler.resample(None))
        except (av.error.FFmpegError, ValueError) as exc:
            raise decode_error(path, exc, f"{sum(c.size for c in chunks) / rate:.2f} s") from exc
    samples = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)
    if samples.size == 0:
        raise NoAudioStreamError(f"{path} has an audio track with no sound in it (0 samples).", path=path)
    got_s = samples.size / rate
    if expected_s is not None and got_s < 0.9 * expected_s and expected_s - got_s > 0.5:
        raise CorruptMediaError(
            f"{path} is cut short: its audio stops at {got_s:.2f} s of the {expected_s:.2f} s it declares.",
            path=path,
        )
    return samples, source_rate, channels


def _declared_seconds(container: av.container.InputContainer, stream: av.AudioStream) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return None


def _plane(frame: av.AudioFrame) -> NDArray[np.float32]:
    return np.asarray(frame.to_ndarray(), dtype=np.float32).reshape(-1)


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
