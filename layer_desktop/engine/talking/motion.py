"""The animator's timing, all deterministic for a seed: blinks, stressed-syllable accents, and the head's
2-D similarity motion (drift, nods, idle micro-motion in silences) per frame.

Blinks come at random intervals of 2–6 s and last 100–150 ms; the first within 0.5–2 s. The head pose
per frame is (dx, dy, angle, scale) in face widths, degrees and relative scale.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.ndimage import uniform_filter1d

from layer_desktop.engine.lipsync.stage import silent_frames

BLINK_GAP_S = (2.0, 6.0)
BLINK_LENGTH_S = (0.10, 0.15)
FIRST_BLINK_S = (0.5, 2.0)
ACCENT_GAP_S = 0.5
NOD_S = 0.45  # a nod's whole length
F64 = NDArray[np.float64]


@dataclass(frozen=True)
class Blink:
    start_s: float
    length_s: float


def blinks(duration_s: float, rng: np.random.Generator) -> list[Blink]:
    """Blinks over ``duration_s``: 2–6 s apart (the first after 0.5–2 s), each 100–150 ms long."""
    out: list[Blink] = []
    t = float(rng.uniform(*FIRST_BLINK_S))
    while True:
        length = float(rng.uniform(*BLINK_LENGTH_S))
        if t + length > duration_s:
            return out
        out.append(Blink(t, length))
        t += length + float(rng.uniform(*BLINK_GAP_S))


def blink_curve(events: list[Blink], fps: float, frames: int) -> F64:
    """Per frame, how closed the eyes are (0 open .. 1 shut): a fast close, a hold, a fast open,
    sampled at each frame's middle and never below full closure on the frame nearest a blink's middle."""
    out = np.zeros(frames)
    for b in events:
        first, last = int(np.floor(b.start_s * fps)), int(np.ceil((b.start_s + b.length_s) * fps))
        for n in range(max(0, first), min(frames, last + 1)):
            u = ((n + 0.5) / fps - b.start_s) / b.length_s
            if 0.0 <= u <= 1.0:
                shape = u / 0.3 if u < 0.3 else (1.0 - u) / 0.3 if u > 0.7 else 1.0
                out[n] = max(out[n], shape)
        mid = min(frames - 1, int((b.start_s + b.length_s / 2) * fps))
        if mid >= 0:
            out[mid] = 1.0
    return out


def accents(loudness: F64, fps: float) -> list[int]:
    """Frames of stressed syllables: the loudest peaks of the (smoothed) loudness, in the top 30 %, at
    least ``ACCENT_GAP_S`` apart, taken loudest first."""
    if loudness.size < 3:
        return []
    smooth = uniform_filter1d(loudness, 3)
    floor = float(np.percentile(smooth, 70))
    peaks = [
        i for i in range(1, smooth.size - 1)
        if smooth[i] >= smooth[i - 1] and smooth[i] > smooth[i + 1] and smooth[i] > floor
    ]  # fmt: skip
    gap = ACCENT_GAP_S * fps
    chosen: list[int] = []
    for i in sorted(peaks, key=lambda i: -smooth[i]):
        if all(abs(i - j) >= gap for j in chosen):
            chosen.append(i)
    return sorted(chosen)


def _drift(t: F64, rng: np.random.Generator, periods: tuple[float, float]) -> F64:
    """A smooth wander in -1 .. 1: three sines of random periods and phases."""
    total = np.zeros_like(t)
    for _ in range(3):
        period = rng.uniform(*periods)
        total += np.sin(2 * np.pi * t / period + rng.uniform(0, 2 * np.pi))
    return total / 3.0


def head_pose(loudness: F64, fps: float, frames: int, rng: np.random.Generator, amount: float) -> F64:
    """(frames, 4): dx, dy (face widths), angle (degrees), scale offset; slow drift, a small nod on each
    accent, and a breathing sway plus fine wander where it is silent. ``amount`` scales it all."""
    t = np.arange(frames) / fps
    pose = np.zeros((frames, 4))
    pose[:, 0] = 0.025 * _drift(t, rng, (3.0, 7.0))
    pose[:, 1] = 0.015 * _drift(t, rng, (4.0, 8.0))
    pose[:, 2] = 1.4 * _drift(t, rng, (3.5, 9.0))
    pose[:, 3] = 0.008 * _drift(t, rng, (5.0, 10.0))
    for a in accents(loudness, fps):
        u = (t - a / fps) / NOD_S
        bump = np.where((u >= 0) & (u <= 1), 0.5 - 0.5 * np.cos(2 * np.pi * np.clip(u, 0, 1)), 0.0)
        pose[:, 1] += 0.03 * bump  # down and back up
        pose[:, 2] += 0.4 * bump * float(rng.choice((-1.0, 1.0)))
    quiet = silent_frames(loudness, fps).astype(np.float64) if frames else np.zeros(0)
    idle = uniform_filter1d(quiet, max(1, int(fps * 0.4))) if frames else quiet
    pose[:, 1] += idle * 0.008 * np.sin(2 * np.pi * t / 3.6)  # breathing
    pose[:, 0] += idle * 0.006 * _drift(t, rng, (0.8, 1.6))
    pose[:, 2] += idle * 0.3 * _drift(t, rng, (0.9, 1.8))
    return pose * amount
