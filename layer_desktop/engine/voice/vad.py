"""Voice activity: where in a recording someone is speaking.

An energy detector with an adaptive threshold (the recording's own noise floor and loudest speech) picks
active frames; short pauses inside speech are bridged, blips are dropped, and, when a pitch track is
given, an active stretch counts as speech only if it holds voiced frames. Pure silence, hiss and clicks
are therefore left alone. Music with a clear pitch is *not* told apart from speech (that needs a trained
classifier); it is converted like speech.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from layer_desktop.engine.voice.dsp import F64, FRAME_MS, Mask, close_gaps, runs

_DIGITAL_SILENCE_DB = -100.0


@dataclass(frozen=True)
class VadSettings:
    """Thresholds of the detector (times in seconds, levels in dB)."""

    floor_margin_db: float = 12.0  # active = this much above the noise floor (10th percentile) …
    dynamic_range_db: float = 40.0  # … and no more than this below the loud speech (95th percentile)
    absolute_floor_dbfs: float = -55.0  # never active below this level
    max_gap_s: float = 0.25  # pauses up to this long stay inside a speech region
    min_speech_s: float = 0.08  # shorter active stretches are noise
    min_voiced_s: float = 0.03  # a region needs this much voiced sound (when a pitch track is given)
    pad_s: float = 0.06  # regions are widened by this much at each end (consonant tails, breath)


def active_frames(db: F64, settings: VadSettings = VadSettings()) -> Mask:
    """Frames whose level clears the adaptive threshold."""
    if db.size == 0:
        return np.zeros(0, dtype=bool)
    sounding = db[db > _DIGITAL_SILENCE_DB]  # padding with exact zeros must not lower the noise floor
    if sounding.size == 0:
        return np.zeros(db.size, dtype=bool)
    floor = float(np.percentile(sounding, 10))
    loud = float(np.percentile(sounding, 95))
    threshold = max(
        floor + settings.floor_margin_db, loud - settings.dynamic_range_db, settings.absolute_floor_dbfs
    )
    return np.asarray(db > threshold, dtype=bool)


def speech_frames(
    db: F64, voiced: Mask | None = None, settings: VadSettings = VadSettings(), frame_ms: float = FRAME_MS
) -> Mask:
    """Per-frame speech mask: active frames, pauses bridged, blips and unvoiced stretches dropped, padded."""
    per_s = 1000.0 / frame_ms
    mask = close_gaps(active_frames(db, settings), round(settings.max_gap_s * per_s))
    keep = np.zeros_like(mask)
    min_len = round(settings.min_speech_s * per_s)
    min_voiced = round(settings.min_voiced_s * per_s)
    pad = round(settings.pad_s * per_s)
    for a, b in runs(mask):
        if b - a < min_len:
            continue
        if voiced is not None and int(np.count_nonzero(voiced[a:b])) < min_voiced:
            continue
        keep[max(0, a - pad) : min(mask.size, b + pad)] = True
    return keep


def frames_to_samples(
    spans: list[tuple[int, int]], rate: int, n_samples: int, frame_ms: float = FRAME_MS
) -> list[tuple[int, int]]:
    """Frame spans (frame i centred at i·frame_ms) as sample spans at ``rate``, clipped to the signal."""
    hop = frame_ms / 1000.0 * rate
    out = []
    for a, b in spans:
        start = max(0, round((a - 0.5) * hop))
        stop = min(n_samples, round((b - 0.5) * hop))
        if stop > start:
            out.append((start, stop))
    return out


def speech_regions(
    db: F64,
    rate: int,
    n_samples: int,
    voiced: Mask | None = None,
    settings: VadSettings = VadSettings(),
    frame_ms: float = FRAME_MS,
) -> list[tuple[int, int]]:
    """Speech regions as (start, stop) sample spans at ``rate``; ``db`` and ``voiced`` are per frame."""
    return frames_to_samples(runs(speech_frames(db, voiced, settings, frame_ms)), rate, n_samples, frame_ms)
