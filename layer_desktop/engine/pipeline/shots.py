"""Shots: where a video cuts or dissolves, found from two small features per frame.

Every frame contributes a hue-saturation histogram (what the tracker already uses for its scene cuts)
and a 32×18 grey thumbnail. A **hard cut** is a histogram jump far above the local level of change
(camera shake, pans and zooms stay near it). A **dissolve** or fade is a stretch where frames are
linear mixes of the frames before and after it: the middle frame of a window equals the mean of its
ends (a pan or zoom never does), and the mix factor of every frame says where it starts and stops.
A dissolve's shot boundary is its first frame that is at least half the new shot.

Shots are walls for everything temporal: tracks, landmark smoothing, the persona photo chosen and
colour statistics never cross one.
"""

from __future__ import annotations

import itertools
import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import cv2
import numpy as np
from numpy.typing import NDArray

from layer_desktop.engine.faces.tracking import frame_histogram
from layer_desktop.engine.faces.types import Face, ImageRGB
from layer_desktop.settings import write_atomic

log = logging.getLogger(__name__)

THUMB = (32, 18)
CUT_MIN = 0.3  # Bhattacharyya distance; shake and pans stay under 0.1 on the test footage
CUT_RATIO = 3.0  # times the median change around it
MIX_HALF = 6  # half-window (frames) of the dissolve test
MIX_CHANGE = 12.0  # grey levels the window's ends must differ by
MIX_RESIDUAL = 0.2  # |mid - mean(ends)| / |end - start| below this: a linear mix
MIX_FIT = 0.1  # every frame of a mix within this (of the change) of start + m·(end − start); zooms: 0.2+
Transition = Literal["start", "cut", "dissolve"]


@dataclass(frozen=True)
class Shot:
    """Frames ``start`` .. ``stop - 1``; ``transition`` is how it begins, and for a dissolve
    ``mix`` is (first, last) frame that mixes the previous shot with this one."""

    index: int
    start: int
    stop: int
    transition: Transition = "start"
    mix: tuple[int, int] | None = None

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def frame_features(rgb: ImageRGB) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """The histogram (128 bins) and grey thumbnail (18×32) of one frame, for ``detect_shots``."""
    small = np.asarray(cv2.resize(rgb, (64, 36), interpolation=cv2.INTER_AREA), np.uint8)  # one full pass
    grey = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
    thumb = cv2.resize(grey, THUMB, interpolation=cv2.INTER_AREA).astype(np.float32)
    # frame_histogram shrinks to 64×36 itself: the same histogram, from the small frame
    return frame_histogram(small).reshape(-1).astype(np.float32), thumb


def _hist_steps(hists: NDArray[np.float32]) -> NDArray[np.float64]:
    steps = np.zeros(len(hists))
    for i in range(1, len(hists)):
        steps[i] = cv2.compareHist(hists[i - 1], hists[i], cv2.HISTCMP_BHATTACHARYYA)
    return steps


def hard_cuts(hists: NDArray[np.float32]) -> list[int]:
    """First frames after each hard cut."""
    steps = _hist_steps(hists)
    cuts = []
    for i in range(1, len(steps)):
        around = np.concatenate([steps[max(1, i - 8) : i], steps[i + 1 : i + 9]])
        level = float(np.median(around)) if len(around) else 0.0
        if steps[i] > CUT_MIN and steps[i] > CUT_RATIO * level:
            cuts.append(i)
    return cuts


def _mix_centres(thumbs: NDArray[np.float32], k: int) -> list[int]:
    centres = []
    for c in range(k, len(thumbs) - k):
        change = float(np.abs(thumbs[c + k] - thumbs[c - k]).mean())
        if change < MIX_CHANGE:
            continue
        residual = float(np.abs(thumbs[c] - (thumbs[c - k] + thumbs[c + k]) / 2).mean())
        if residual < MIX_RESIDUAL * change:
            centres.append(c)
    return centres


def _groups(values: list[int]) -> list[tuple[int, int]]:
    groups: list[tuple[int, int]] = []
    for v in values:
        if groups and v - groups[-1][1] <= 1:
            groups[-1] = (groups[-1][0], v)
        else:
            groups.append((v, v))
    return groups


def dissolves(thumbs: NDArray[np.float32], cuts: list[int], k: int = MIX_HALF) -> list[tuple[int, int, int]]:
    """(first mixed frame, last mixed frame, first frame of the new shot) of each dissolve or fade."""
    found = []
    for c0, c1 in _groups(_mix_centres(thumbs, k)):
        a, b = max(c0 - k, 0), min(c1 + k, len(thumbs) - 1)
        if any(a < cut <= b for cut in cuts):
            continue  # a hard cut's neighbourhood, not a mix
        start, end = thumbs[a].ravel(), thumbs[b].ravel()
        span = end - start
        mix = [float(np.dot(thumbs[i].ravel() - start, span) / max(float(np.dot(span, span)), 1e-6)) for i in
               range(a, b + 1)]  # fmt: skip
        fit = max(float(np.abs(thumbs[a + j].ravel() - start - m * span).mean()) for j, m in enumerate(mix))
        mixed = [a + j for j, m in enumerate(mix) if 0.03 < m < 0.97]
        if len(mixed) < 3 or fit > MIX_FIT * float(np.abs(span).mean()):
            continue  # not one straight mix of two pictures: a zoom or a pan
        boundary = next(a + j for j, m in enumerate(mix) if m >= 0.5)
        found.append((mixed[0], mixed[-1], boundary))
    return found


def detect_shots(hists: NDArray[np.float32], thumbs: NDArray[np.float32]) -> list[Shot]:
    """The shots of a video from its per-frame features (``frame_features``), in order."""
    n = len(hists)
    if n == 0:
        return []
    cuts = hard_cuts(hists)
    starts: dict[int, tuple[Transition, tuple[int, int] | None]] = {c: ("cut", None) for c in cuts}
    for first, last, boundary in dissolves(thumbs, cuts):
        starts[boundary] = ("dissolve", (first, last))
    shots: list[Shot] = []
    bounds = [0, *sorted(b for b in starts if 0 < b < n), n]
    for i, (a, b) in enumerate(itertools.pairwise(bounds)):
        transition, mix = starts.get(a, ("start", None))
        shots.append(Shot(i, a, b, transition, mix))
    log.info("shots: %d (%s)", len(shots), ", ".join(f"{s.transition}@{s.start}" for s in shots[1:]))
    return shots


def shot_of_frames(shots: list[Shot], n: int) -> NDArray[np.int64]:
    """The shot index of every frame ``0 .. n-1`` (0 where no shot covers it)."""
    out = np.zeros(n, np.int64)
    for s in shots:
        out[s.start : min(s.stop, n)] = s.index
    return out


def split_tracks(frames: list[list[Face]], shots: list[Shot]) -> list[list[Face]]:
    """Faces with track ids that never cross a shot boundary: a track seen in several shots keeps its
    id in the first and gets a new id in each later one."""
    shot = shot_of_frames(shots, len(frames))
    next_id = 1 + max((f.track_id for fs in frames for f in fs if f.track_id is not None), default=-1)
    ids: dict[tuple[int, int], int] = {}
    first_shot: dict[int, int] = {}
    out: list[list[Face]] = []
    for i, faces in enumerate(frames):
        row = []
        for f in faces:
            if f.track_id is None:
                row.append(f)
                continue
            key = (int(shot[i]), f.track_id)
            if key not in ids:
                if first_shot.setdefault(f.track_id, key[0]) == key[0]:
                    ids[key] = f.track_id
                else:
                    ids[key], next_id = next_id, next_id + 1
            row.append(f if ids[key] == f.track_id else f.with_track_id(ids[key]))
        out.append(row)
    return out


def save_shots(path: Path, shots: list[Shot]) -> None:
    write_atomic(path, json.dumps([s.to_dict() for s in shots], indent=1).encode())


def load_shots(path: Path) -> list[Shot]:
    """Shots written by ``save_shots``; an empty list when the file is missing or unreadable."""
    try:
        rows = json.loads(path.read_text())
    except (OSError, ValueError):
        return []
    return [
        Shot(r["index"], r["start"], r["stop"], r["transition"], tuple(r["mix"]) if r["mix"] else None)
        for r in rows
    ]
