"""Pure helpers for the timeline: merging frame ranges, pixel runs, ruler ticks and segment colours."""

from __future__ import annotations

import zlib
from collections.abc import Iterable

import numpy as np
from PySide6.QtGui import QColor

from layer_desktop.ui.timecode import timecode

MIN_TICK_PX = 70  # the least room between labelled ruler ticks


def merge_ranges(ranges: Iterable[tuple[int, int]]) -> np.ndarray:
    """Inclusive frame ranges sorted and merged (overlapping or touching), as an (n, 2) int array."""
    arr = np.array(sorted((min(a, b), max(a, b)) for a, b in ranges), dtype=np.int64).reshape(-1, 2)
    if len(arr) < 2:
        return arr
    reach = np.maximum.accumulate(arr[:, 1])
    new_run = arr[1:, 0] > reach[:-1] + 1
    firsts = np.concatenate(([0], np.flatnonzero(new_run) + 1))
    lasts = np.concatenate((firsts[1:] - 1, [len(arr) - 1]))
    return np.stack((arr[firsts, 0], reach[lasts]), axis=1)


def pixel_runs(x0: np.ndarray, x1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted spans in pixels joined where they touch within half a pixel: one rect per run to paint."""
    if len(x0) == 0:
        return x0, x1
    x1 = np.maximum(x1, x0 + 1.0)
    reach = np.maximum.accumulate(x1)
    new_run = x0[1:] > reach[:-1] + 0.5
    firsts = np.concatenate(([0], np.flatnonzero(new_run) + 1))
    lasts = np.concatenate((firsts[1:] - 1, [len(x0) - 1]))
    return x0[firsts], reach[lasts]


def tick_step(px_per_frame: float, fps: float) -> int:
    """Frames between labelled ruler ticks: frames when zoomed in, else whole seconds or minutes."""
    seconds = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600)
    for step in (1, 2, 5, 10, *(max(1, round(s * fps)) for s in seconds)):
        if step * px_per_frame >= MIN_TICK_PX:
            return step
    return max(1, round(7200 * fps))


def tick_label(frame: int, step: int, fps: float) -> str:
    """The tick's SMPTE timecode (``MM:SS:FF``, hours only when there are some), at every zoom."""
    code = timecode(frame, fps if fps > 0 else 25.0)
    return code[3:] if code.startswith("00:") else code


def segment_colour(label: str, enabled: bool) -> QColor:
    """A stable mid-tone colour per persona label (grey when the segment keeps the original)."""
    if not enabled:
        return QColor("#8a8a8a")
    return QColor.fromHsv(zlib.crc32(label.encode()) % 360, 140, 200)
