"""Pass 2 of a transform job: which face to swap in each frame, with landmarks smoothed over time.

The target track comes from the spec's face choice. Its landmarks are smoothed with a centred
Gaussian over time within each run of frames where the track is present (no lag, unlike a causal
filter), and the per-frame jitter (distance of a frame's raw landmarks from the mean of its two
neighbours, as a fraction of the face size) is kept for review.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.ndimage import gaussian_filter1d

from layer_desktop.engine.faces import select_by_point
from layer_desktop.engine.faces.types import Face
from layer_desktop.engine.pipeline.analysis import FrameFaces
from layer_desktop.engine.pipeline.spec import TransformSpec, parse_face
from layer_desktop.errors import FrameOutOfRangeError, NoFaceError

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


def _chain(frames: FrameFaces, tracks: Counter[int]) -> set[int]:
    """The main track plus every track that never shares a frame with the ones already chosen (the same
    face coming back after a cut or a gap gets a new track id), biggest first."""
    spans: dict[int, set[int]] = {}
    for i, faces in enumerate(frames):
        for f in faces:
            if f.track_id is not None:
                spans.setdefault(f.track_id, set()).add(i)
    chosen: set[int] = set()
    used: set[int] = set()
    for track, _ in tracks.most_common():
        if not spans[track] & used:
            chosen.add(track)
            used |= spans[track]
    return chosen


def choose_tracks(spec: TransformSpec, frames: FrameFaces) -> set[int]:
    """The track ids the spec's face choice names. Raises ``NoFaceError`` when there is none."""
    kind, args = parse_face(spec.face)
    tracks = Counter[int]()
    for faces in frames:
        for f in faces:
            if f.track_id is not None:
                tracks[f.track_id] += int(f.area)
    if not tracks:
        raise NoFaceError(
            f"No face was found anywhere in {spec.source}.", hint="Choose a video that shows a face."
        )
    if kind == "track":
        wanted = int(args[0])
        if wanted not in tracks:
            raise NoFaceError(
                f"There is no face track {wanted} in {spec.source}; tracks found: "
                f"{', '.join(str(t) for t in sorted(tracks))}.",
                hint="Run `layer faces track` on the video to see its tracks.",
            )
        return {wanted}
    if kind == "point":
        x, y, frame = args
        index = int(frame)
        if index >= len(frames):  # checked when the job starts; a plan made elsewhere checks it too
            raise FrameOutOfRangeError(f"The face point names frame {index}; the video has {len(frames)}.")
        hit = select_by_point(frames[index], x, y)
        if hit is None or hit.track_id is None:
            raise NoFaceError(f"No face is under the point {x:g},{y:g} in frame {index}.")
        return {hit.track_id}
    return _chain(frames, tracks)  # auto: the face filling the most frame-area, and its returns


def _runs(present: NDArray[np.bool_]) -> list[tuple[int, int]]:
    runs, start = [], None
    for i, p in enumerate(present):
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
    points: NDArray[np.float32], present: NDArray[np.bool_], sigma: NDArray[np.float64]
) -> NDArray[np.float32]:
    """``points`` (T, N, 2) smoothed over time inside each run of present frames, with a per-frame
    Gaussian ``sigma`` (frames; 0 = unsmoothed)."""
    out = points.copy()
    for a, b in _runs(present):
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
    points: NDArray[np.float32], present: NDArray[np.bool_], size: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Per frame, the mean landmark distance from its neighbours' midpoint over the face size (NaN at
    run ends and where absent)."""
    out = np.full(len(points), np.nan)
    for a, b in _runs(present):
        if b - a < 3:
            continue
        mid = (points[a : b - 2] + points[a + 2 : b]) / 2.0
        dist = np.linalg.norm(points[a + 1 : b - 1] - mid, axis=2).mean(axis=1)
        out[a + 1 : b - 1] = dist / np.maximum(size[a + 1 : b - 1], 1.0)
    return out


def make_plan(spec: TransformSpec, frames: FrameFaces) -> list[FramePlan]:
    """One ``FramePlan`` per frame of the video."""
    tracks = choose_tracks(spec, frames)
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
    smooth = smooth_runs(pts, present, sigma)
    jit = jitter(pts, present, size)
    seen = np.flatnonzero(present)
    plans = []
    for i, f in enumerate(raw):
        target = None
        if f is not None and f.landmarks is not None:
            landmarks = f.landmarks.copy()
            landmarks[:, :2] = smooth[i]
            target = Face(f.bbox, f.score, f.keypoints, landmarks, f.track_id, f.presence)
        lost = f is None and len(seen) > 0 and seen[0] < i < seen[-1]
        j = None if np.isnan(jit[i]) else float(jit[i])
        plans.append(FramePlan(i, len(frames[i]), target, f, j, bool(lost)))
    log.info("plan: track(s) %s swapped in %d of %d frames", sorted(tracks), int(present.sum()), n)
    return plans
