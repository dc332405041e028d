"""Per-sample checks that need the pitch track: where the speech is, and whether two people speak.

The several-speakers check looks at the median pitch of overlapping 1 s windows: one speaker's windows
drift with intonation (typically within ±15 %), two speakers of clearly different pitch (a man and a
woman, an adult and a child) form two separate groups. Two voices of similar pitch are not detected.
"""

from __future__ import annotations

import math

import numpy as np

from layer_desktop.engine.voice.dsp import F64, FRAME_MS, Mask
from layer_desktop.engine.voice.vad import VadSettings, speech_frames

_WINDOW_S = 1.0
_STEP_S = 0.5
_MIN_VOICED_S = 0.2
_GROUP_RATIO = 1.35  # the two groups' typical pitch differs at least this much …
_GAP_RATIO = 1.12  # … with a clear gap between the highest of one and the lowest of the other
_MIN_GROUP_SHARE = 0.2


def speech_mask(db: F64, f0: F64, settings: VadSettings | None = None) -> Mask:
    """Per-frame speech mask of a sample (see ``vad.speech_frames``)."""
    return speech_frames(db, np.asarray(f0 > 0, dtype=bool), settings or VadSettings())


def window_pitches(f0: F64, speech: Mask, frame_ms: float = FRAME_MS) -> F64:
    """ln of the median f0 of each window that holds enough voiced speech."""
    per_s = 1000.0 / frame_ms
    size, step, need = round(_WINDOW_S * per_s), round(_STEP_S * per_s), round(_MIN_VOICED_S * per_s)
    logs = np.where((f0 > 0) & speech, np.log(np.maximum(f0, 1.0)), np.nan)
    out = []
    for start in range(0, max(1, logs.size - size // 2), step):
        w = logs[start : start + size]
        v = w[~np.isnan(w)]
        if v.size >= need:
            out.append(float(np.median(v)))
    return np.asarray(out, dtype=np.float64)


def speaker_change(f0: F64, speech: Mask, frame_ms: float = FRAME_MS) -> str | None:
    """A reason when the sample seems to hold two speakers of clearly different pitch, else None."""
    w = np.sort(window_pitches(f0, speech, frame_ms))
    if w.size < 4:
        return None
    best: tuple[float, int] | None = None
    for k in range(1, w.size):  # the 1-D two-means split: least within-group spread
        spread = float(np.sum((w[:k] - w[:k].mean()) ** 2) + np.sum((w[k:] - w[k:].mean()) ** 2))
        if best is None or spread < best[0]:
            best = (spread, k)
    assert best is not None
    k = best[1]
    low, high = w[:k], w[k:]
    share = min(low.size, high.size) / w.size
    means = math.exp(float(high.mean() - low.mean()))
    gap = math.exp(float(high[0] - low[-1]))
    if share >= _MIN_GROUP_SHARE and means >= _GROUP_RATIO and gap >= _GAP_RATIO:
        return (
            f"seems to hold two speakers: typical pitch {math.exp(low.mean()):.0f} Hz in part of it and "
            f"{math.exp(high.mean()):.0f} Hz in another"
        )
    return None
