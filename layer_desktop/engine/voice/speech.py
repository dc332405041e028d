"""Synthesized speech: the PCM plus word (and, where the backend gives them, phoneme) timings for lip-sync."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from layer_desktop.engine.media.audio import Pcm


@dataclass(frozen=True)
class Timing:
    """One word or phoneme: its text and where it sounds, in seconds from the start of the audio."""

    text: str
    start_s: float
    end_s: float

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "start_s": round(self.start_s, 4), "end_s": round(self.end_s, 4)}


@dataclass(frozen=True)
class Speech:
    pcm: Pcm
    words: tuple[Timing, ...]
    phonemes: tuple[Timing, ...] = ()
    backend: str = ""

    def timings_dict(self) -> dict[str, Any]:
        """The JSON form of the timings (for a lip-sync sidecar file)."""
        return {
            "backend": self.backend,
            "rate": self.pcm.rate,
            "duration_s": round(self.pcm.duration, 4),
            "words": [w.to_dict() for w in self.words],
            "phonemes": [p.to_dict() for p in self.phonemes],
        }


def words_from_characters(
    chars: Sequence[str], starts: Sequence[float], ends: Sequence[float]
) -> tuple[Timing, ...]:
    """Word timings from per-character timings (as ElevenLabs returns them): runs of non-space characters."""
    words: list[Timing] = []
    current: list[int] = []
    for i, ch in enumerate([*chars, " "]):
        if ch.isspace():
            if current:
                text = "".join(chars[j] for j in current)
                words.append(Timing(text, float(starts[current[0]]), float(ends[current[-1]])))
                current = []
        else:
            current.append(i)
    return tuple(words)
