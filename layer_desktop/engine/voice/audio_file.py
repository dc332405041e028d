"""Writing converted or synthesized audio: a file (WAV, FLAC, M4A/AAC, MP3, Opus via PyAV), WAV bytes for
upload, and raw 16-bit PCM from a cloud service back to float samples."""

from __future__ import annotations

import io
import wave
from pathlib import Path

import av
import numpy as np

from layer_desktop.engine.media.audio import Pcm
from layer_desktop.engine.voice.dsp import F64
from layer_desktop.errors import EncodeError

CODECS = {".wav": "pcm_s16le", ".flac": "flac", ".m4a": "aac", ".mp3": "libmp3lame", ".ogg": "libopus"}


def write_audio(path: str | Path, pcm: Pcm) -> Path:
    """Write ``pcm`` to ``path``; the codec follows the extension (see ``CODECS``). Samples are clipped
    to [-1, 1]. Raises ``EncodeError`` for an unknown extension or when the encoder fails."""
    p = Path(path)
    codec = CODECS.get(p.suffix.lower())
    if codec is None:
        raise EncodeError(
            f"Cannot write audio as {p.suffix or 'a file without extension'}: "
            f"use one of {', '.join(CODECS)}.",
            path=p,
        )
    channels = int(pcm.samples.shape[0])
    layout = "mono" if channels == 1 else "stereo"
    data = np.ascontiguousarray(np.clip(pcm.samples[:2], -1.0, 1.0), dtype=np.float32)
    p.parent.mkdir(parents=True, exist_ok=True)
    try:
        with av.open(str(p), "w") as out:
            stream = out.add_stream(codec, rate=pcm.rate, layout=layout)
            assert isinstance(stream, av.AudioStream)
            frame = av.AudioFrame.from_ndarray(data, format="fltp", layout=layout)
            frame.sample_rate = pcm.rate
            for packet in stream.encode(frame):
                out.mux(packet)
            for packet in stream.encode(None):
                out.mux(packet)
    except (av.error.FFmpegError, ValueError) as exc:
        raise EncodeError(f"Could not write {p}: {exc}", path=p) from exc
    return p


def wav_bytes(x: F64, rate: int) -> bytes:
    """Mono 16-bit PCM WAV of ``x`` (clipped to [-1, 1])."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm16_bytes(x))
    return buffer.getvalue()


def pcm16_bytes(x: F64) -> bytes:
    return (np.clip(x, -1.0, 1.0) * 32767.0).round().astype("<i2").tobytes()


def from_pcm16(data: bytes) -> F64:
    """Raw little-endian 16-bit mono PCM (an odd trailing byte is dropped) as float64 in [-1, 1)."""
    usable = len(data) - len(data) % 2
    return np.frombuffer(data[:usable], dtype="<i2").astype(np.float64) / 32768.0
