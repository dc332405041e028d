"""Audio out of a media file: float32 PCM at a requested rate, and waveform peaks for drawing."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import av.container
import numpy as np

from layer_desktop.engine.media.opening import audio_stream, decode_error, open_input
from layer_desktop.errors import CorruptMediaError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Pcm:
    samples: np.ndarray  # float32, shape (channels, n)
    rate: int
    start: float  # seconds: the stream time of the first sample
    source_rate: int  # the track's own sample rate and channel count
    source_channels: int

    @property
    def duration(self) -> float:
        return int(self.samples.shape[1]) / self.rate

    @property
    def mono(self) -> np.ndarray:
        return np.asarray(self.samples.mean(axis=0), dtype=np.float32)


# Decoder errors that mean one damaged frame: skipped (and counted), decoding goes on with the next.
FRAME_ERRORS = (av.error.InvalidDataError, av.error.UndefinedError, av.error.PatchWelcomeError)


@dataclass
class Damage:
    """Audio frames skipped because they did not decode."""

    frames: int = 0


def audio_frames(
    container: av.container.InputContainer, stream: av.AudioStream, path: Path, damage: Damage
) -> Iterator[av.AudioFrame]:
    """Decoded frames of ``stream``; a frame that does not decode is skipped, logged and counted."""
    for packet in container.demux(stream):
        try:
            yield from packet.decode()
        except FRAME_ERRORS as exc:
            damage.frames += 1
            log.warning("%s: skipped an audio frame that does not decode (%s)", path, exc)


def extract_audio(path: str | Path, rate: int = 16000, *, channels: int = 1) -> Pcm:
    """The first audio track as float32 PCM at ``rate`` Hz with 1 or 2 ``channels``.

    Raises ``NoAudioStreamError`` when there is no audio track, ``CorruptMediaError`` when it cannot
    be decoded to the end or stops well before the duration the file declares.
    """
    layout = "mono" if channels == 1 else "stereo"
    p = Path(path)
    with open_input(p) as container:
        stream = audio_stream(container, p)
        stream.codec_context.thread_type = "AUTO"
        tb = stream.time_base or Fraction(1, stream.codec_context.sample_rate or 1)
        start = float(stream.start_time * tb) if stream.start_time is not None else 0.0
        # Encoders pad the last frame; the stream duration says where the real sound ends.
        limit = round(float(stream.duration * tb) * rate) if stream.duration else None
        declared = _declared_seconds(container, stream)
        source_rate = int(stream.codec_context.sample_rate or 0)
        source_channels = int(stream.codec_context.channels or 0)
        resampler = av.AudioResampler(format="flt", layout=layout, rate=rate)
        parts: list[np.ndarray] = []
        try:
            for frame in audio_frames(container, stream, p, Damage()):
                parts.extend(r.to_ndarray() for r in resampler.resample(frame))
            parts.extend(r.to_ndarray() for r in resampler.resample(None))
        except (av.error.FFmpegError, ValueError) as exc:
            raise decode_error(p, exc, f"{sum(x.shape[1] for x in parts) / rate:.2f} s of audio") from exc
    data = np.concatenate(parts, axis=1) if parts else np.zeros((1, 0), np.float32)
    # "flt" is packed: one row holding channels interleaved.
    data = data.reshape(-1, channels).T if channels > 1 else data.reshape(1, -1)
    if limit is not None:
        data = data[:, :limit]
    _check_not_cut_short(p, data.shape[1] / rate, declared)
    return Pcm(np.ascontiguousarray(data, dtype=np.float32), rate, start, source_rate, source_channels)


def _declared_seconds(container: av.container.InputContainer, stream: av.AudioStream) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return None


def _check_not_cut_short(path: Path, got: float, declared: float | None) -> None:
    """A decoder may stop quietly at the end of a truncated file: compare with what the file declares."""
    if declared is not None and got < 0.9 * declared and declared - got > 0.5:
        raise CorruptMediaError(
            f"{path} is cut short: its audio stops at {got:.2f} s of the {declared:.2f} s it declares.",
            path=path,
        )


def waveform_peaks(samples: np.ndarray, buckets: int) -> np.ndarray:
    """Min and max of each of ``buckets`` equal spans of mono ``samples``: shape (buckets, 2)."""
    if buckets <= 0:
        raise ValueError("buckets must be positive")
    x = np.asarray(samples, dtype=np.float32).reshape(-1)
    if x.size == 0:
        return np.zeros((buckets, 2), np.float32)
    edges = np.linspace(0, x.size, buckets + 1).astype(np.int64)
    peaks = np.zeros((buckets, 2), np.float32)
    for i in range(buckets):
        a, b = edges[i], max(edges[i + 1], edges[i] + 1)
        span = x[a:b] if a < x.size else x[-1:]
        peaks[i] = span.min(), span.max()
    return peaks
