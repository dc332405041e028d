"""What drives the mouth: per-frame mouth parameters from the audio and whatever timings come with it."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from layer_desktop.engine.lipsync.mel import RATE
from layer_desktop.engine.lipsync.phonemes import align_transcript
from layer_desktop.engine.lipsync.sync import loudness_per_frame
from layer_desktop.engine.lipsync.visemes import Shape, frame_params, params_from_loudness, shapes_from_phones
from layer_desktop.engine.voice.speech import Timing

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MouthTrack:
    """(frames, 3) open/width/pucker per video frame, the shapes behind them and where they came from."""

    params: NDArray[np.float32]
    shapes: tuple[Shape, ...]
    source: str  # "phonemes" | "alignment" | "loudness"


def mouth_track(
    samples: NDArray[np.floating],
    fps: float,
    frames: int,
    *,
    phonemes: Sequence[Timing] = (),
    transcript: str | None = None,
) -> MouthTrack:
    """The mouth parameters for ``frames`` video frames of 16 kHz mono ``samples``: from given phoneme
    timings, else a pocketsphinx alignment of ``transcript``, else the loudness. Raises
    ``AlignmentError`` when a transcript cannot be aligned."""
    duration = max(len(samples) / RATE, frames / fps)
    source = "phonemes"
    if not phonemes and transcript:
        phonemes, source = align_transcript(samples, transcript), "alignment"
    if phonemes:
        shapes = shapes_from_phones(phonemes, duration)
        return MouthTrack(frame_params(shapes, fps, frames), tuple(shapes), source)
    loud = loudness_per_frame(samples, RATE, fps, frames)
    return MouthTrack(params_from_loudness(loud), (), "loudness")
