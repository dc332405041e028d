"""Pass 2 of a transform job: which face to swap in each frame, with landmarks smoothed over time.

The target tracks come from the spec's face choice, one person followed shot by shot
(``targeting``). Their landmarks are smoothed with a centred Gaussian over time within each run of
frames where one track is present, never across a shot boundary (no lag, unlike a causal filter, and
no face from the previous shot smeared into the next), and the per-frame jitter (distance of a
frame's raw landmarks from the mean of its two
neighbours, as a fraction of the face size) is kept for review.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from scipy.ndimage import gaussian_filter1d

from layer_desktop.engine.faces.types import Face
from layer_desktop.engine.pipeline.analysis import FrameFaces
from layer_desktop.engine.pipeline.shots import Shot, shot_of_frames
from layer_desktop.engine.pipeline.spec import TransformSpec, face_reference, parse_face
from layer_desktop.engine.pipeline.targeting import Targets, choose_targets
from layer_desktop.errors import NoFaceError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FramePlan:
    """The plan for one frame: the target face (smoothed) or None, and what review needs to know."""

    index: int
    faces_found: int
    target: Face | None
    raw: Face | None
    jitter: float | None  # landmark jitter vs neighbours, fraction of face size
    track_lost: bool  # the target track is missing here but present before and after
    shot: int = 0  # the shot (analysis) this frame belongs to
    bystander: bool = False  # the face swapped here is not the main subject


def choose_tracks(spec: TransformSpec, frames: FrameFaces, shots: list[Shot] | None = None) -> set[int]:
    """The track ids the spec's face choice names, shot by shot (``targeting``). Raises ``NoFaceError``
    when there is none."""
    return set(_targets(spec, frames, shots or _one_shot(frames)).tracks)


def _one_shot(frames: FrameFaces) -> list[Shot]:
    return [Shot(0, 0, len(frames))]


def _targets(spec: TransformSpec, frames: FrameFaces, shots: list[Shot]) -> Targets:
    kind, args = parse_face(spec.face)
    reference = Path(face_reference(spec.face)) if kind == "like" else None
    try:
        return choose_targets(kind, args, frames, shots, reference)
    except NoFaceError as e:
        if "anywhere" in str(e):
            raise NoFaceError(
                f"No face was found anywhere in {spec.source}.", hint="Choose a video that shows a face."
            ) from e
        raise


def _runs(present: NDArray[np.bool_], breaks: frozenset[int] = frozenset()) -> list[tuple[int, int]]:
    """Runs of present frames; a run also ends before every frame in ``breaks`` (a shot's first frame,
    a change of track)."""
    runs: list[tuple[int, int]] = []
    start = None
    for i, p in enumerate(present):
        if start is not None and i in breaks:
            runs.append((start, i))
            start = None
        if p and start is None:
            start = i
        if not p and start is not None:
            runs.append((start, i))
            start = None
    if start is not None:
        runs.append((start, len(present)))
    return runs


IDENTITY_SIGMA = 0.125


def smooth_runs(
    points: NDArray[np.float32],
    present: NDArray[np.bool_],
    sigma: NDArray[np.float64],
    breaks: frozenset[int] = frozenset(),
) -> NDArray[np.float32]:
    """``points`` (T, N, 2) smoothed over time inside each run of present frames (never across
    ``breaks``), with a per-frame Gaussian ``sigma`` (frames; 0 = unsmoothed)."""
    out = points.copy()
    for a, b in _runs(present, breaks):
        run = points[a:b].astype(np.float64)
        for s in np.unique(sigma[a:b]):
            # below 1/8 frame scipy's kernel is the single tap [1] (radius int(4σ + 0.5) = 0): nothing to
            # smooth, and a sigma as tiny as 1e-300 makes scipy divide by zero
            if s < IDENTITY_SIGMA or b - a < 2:
                continue
            smoothed = gaussian_filter1d(run, float(s), axis=0, mode="nearest")
            pick = sigma[a:b] == s
            out[a:b][pick] = smoothed[pick].astype(np.float32)
    return out


def jitter(
    points: NDArray[np.float32],
    present: NDArray[np.bool_],
    size: NDArray[np.float64],
    breaks: frozenset[int] = frozenset(),
) -> NDArray[np.float64]:
    """Per frame, the mean landmark distance from its neighbours' midpoint over the face size, after
    taking out the whole face's own move (camera shake and motion move every point alike; jitter is
    the points moving against each other). NaN at run ends and where absent."""
    out = np.full(len(points), np.nan)
    for a, b in _runs(present, breaks):
        if b - a < 3:
            continue
        mid = (points[a : b - 2] + points[a + 2 : b]) / 2.0
        off = points[a + 1 : b - 1] - mid
        off = off - off.mean(axis=1, keepdims=True)
        dist = np.linalg.norm(off, axis=2).mean(axis=1)
        out[a + 1 : b - 1] = dist / np.maximum(size[a + 1 : b - 1], 1.0)
    return out


def _breaks(raw: list[Face | None], shots: list[Shot]) -> frozenset[int]:
    """Frames where smoothing must restart: every shot's first frame, and where the track changes."""
    out = {s.start for s in shots}
    for i in range(1, len(raw)):
        a, b = raw[i - 1], raw[i]
        if a is not None and b is not None and a.track_id != b.track_id:
            out.add(i)
    return frozenset(out)


def make_plan(spec: TransformSpec, frames: FrameFaces, shots: list[Shot] | None = None) -> list[FramePlan]:
    """One ``FramePlan`` per frame of the video; ``shots`` (from the analysis) are walls for the
    choice of face and for smoothing (default: the whole video is one shot)."""
    shots = shots or _one_shot(frames)
    targets = _targets(spec, frames, shots)
    tracks = targets.tracks
    n = len(frames)
    raw: list[Face | None] = [next((f for f in fs if f.track_id in tracks), None) for fs in frames]
    present = np.array([f is not None and f.landmarks is not None for f in raw])
    pts = np.zeros((n, 468, 2), np.float32)
    size = np.ones(n)
    for i, f in enumerate(raw):
        if f is not None and f.landmarks is not None:
            pts[i] = f.landmarks[:, :2]
            size[i] = max(f.width, f.height)
    sigma = np.array([spec.settings_at(i)[2].smoothing for i in range(n)])
    breaks = _breaks(raw, shots)
    smooth = smooth_runs(pts, present, sigma, breaks)
    jit = jitter(pts, present, size, breaks)
    shot_of = shot_of_frames(shots, n)
    plans = []
    for i, f in enumerate(raw):
        target = None
        if f is not None and f.landmarks is not None:
            landmarks = f.landmarks.copy()
            landmarks[:, :2] = smooth[i]
            target = replace(f, landmarks=landmarks)
        lost = f is None and _lost_in_shot(present, shots[int(shot_of[i])], i)
        j = None if np.isnan(jit[i]) else float(jit[i])
        bystander = f is not None and f.track_id not in targets.main
        plans.append(FramePlan(i, len(frames[i]), target, f, j, lost, int(shot_of[i]), bystander))
    log.info("plan: track(s) %s swapped in %d of %d frames", sorted(tracks), int(present.sum()), n)
    return plans


def _lost_in_shot(present: NDArray[np.bool_], shot: Shot, i: int) -> bool:
    """The target is missing at ``i`` but present before and after it in the same shot."""
    seen = np.flatnonzero(present[shot.start : shot.stop]) + shot.start
    return bool(len(seen) > 0 and seen[0] < i < seen[-1])
