"""Sound for playback: the open video's audio through miniaudio, and its clock.

The device pulls samples from a generator on miniaudio's own thread; the count of samples handed over
is the playback clock, so the picture follows the sound (not the other way round). Where no audio
device can be opened (a server, a container), playback goes on silently on the wall clock.
``LAYER_AUDIO_BACKEND=null`` selects miniaudio's null device, which consumes samples in real time
without a sound card (the tests use it).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Generator

import numpy as np

log = logging.getLogger(__name__)

RATE = 48000
CHANNELS = 2


def to_pcm16(samples: np.ndarray) -> np.ndarray:
    """float32 (channels, n) in -1..1 → interleaved int16 stereo (n, 2)."""
    stereo = samples if samples.shape[0] == CHANNELS else np.repeat(samples[:1], CHANNELS, axis=0)
    return np.ascontiguousarray((np.clip(stereo.T, -1.0, 1.0) * 32767).astype(np.int16))


class AudioOut:
    """Plays ``pcm`` (interleaved int16 stereo at ``RATE``) from a sample offset; ``position()`` is the
    number of seconds played since ``start``."""

    def __init__(self, pcm: np.ndarray) -> None:
        self.pcm = pcm
        self._device: object | None = None
        self._played = 0
        self._lock = threading.Lock()

    @staticmethod
    def _open() -> object:
        import miniaudio  # imported here: a broken sound stack must not stop the studio from starting

        wanted = os.environ.get("LAYER_AUDIO_BACKEND", "").lower()
        backends = (
            [miniaudio.Backend.NULL]
            if wanted == "null"
            else [miniaudio.Backend.PULSEAUDIO, miniaudio.Backend.ALSA]
        )
        return miniaudio.PlaybackDevice(
            output_format=miniaudio.SampleFormat.SIGNED16,
            nchannels=CHANNELS,
            sample_rate=RATE,
            backends=backends,
            app_name="Layer Desktop",
        )

    def start(self, first_sample: int) -> bool:
        """Start playing at ``first_sample``; False (and silence) when no audio device opens."""
        self.stop()
        try:
            device = self._open()
        except Exception as exc:  # no sound card / server: play silently, say so once in the log
            log.info("no audio output (%s); playing without sound", exc)
            return False
        self._played = 0
        gen = self._feed(max(0, first_sample))
        next(gen)
        device.start(gen)  # type: ignore[attr-defined]
        self._device = device
        return True

    def _feed(self, offset: int) -> Generator[bytes, int, None]:
        wanted = yield b""
        while True:
            chunk = self.pcm[offset : offset + wanted]
            if len(chunk) < wanted:  # past the end: silence, the clock keeps running
                chunk = np.concatenate([chunk, np.zeros((wanted - len(chunk), CHANNELS), np.int16)])
            offset += wanted
            with self._lock:
                self._played += wanted
            wanted = yield chunk.tobytes()

    def position(self) -> float:
        with self._lock:
            return self._played / RATE

    @property
    def playing(self) -> bool:
        return self._device is not None

    def stop(self) -> None:
        device, self._device = self._device, None
        if device is not None:
            device.close()  # type: ignore[attr-defined]
