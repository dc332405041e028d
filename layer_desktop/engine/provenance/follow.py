"""Where the invisible mark sits in each frame of a render: it moves with the picture.

A mark fixed to the frame fades when the output is re-encoded over a moving picture (a pan, a slow
zoom): the encoder predicts each frame from the previous one moved with the picture, mark included,
and a strong re-encode (CRF 28) drops the small correction that would put the mark back. A mark that
moves with the picture is predicted exactly and survives; the detector finds it at any offset and at
scales from ``SCALES``. The follower tracks the global similarity (shift and zoom) between consecutive
frames from tracked corners and starts again at each chunk's first frame, so a chunk renders the
same alone, resumed or re-rendered, and when the zoom leaves ``SCALES`` or the picture turns.
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

SIDE = 360  # motion is measured with the short side resampled to this many pixels
SCALES = (0.98, 1.12)  # accumulated zoom the detector's period search covers (with a 10 % crop on top)
MAX_TURN = 0.01  # radians of accumulated rotation (the detector does not search rotation)
MIN_POINTS = 12

Affine = NDArray[np.float64]
Gray = NDArray[np.uint8]


class MarkFollower:
    """``follower(index, rgb)``: the 2 x 3 affine map that moves the mark from its place in the chunk's
    first frame to frame ``index``; call it for the frames of a chunk in order."""

    def __init__(self, chunk_frames: int) -> None:
        self.chunk_frames = chunk_frames
        self._last = -2
        self._previous: Gray | None = None
        self._map = np.eye(3)

    def __call__(self, index: int, rgb: NDArray[np.uint8]) -> Affine:
        h, w = rgb.shape[:2]
        f = min(1.0, SIDE / min(h, w))
        gray: Gray = np.asarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), np.uint8)
        if f < 1.0:
            gray = np.asarray(
                cv2.resize(gray, (round(w * f), round(h * f)), interpolation=cv2.INTER_AREA), np.uint8
            )
        previous = self._previous
        self._previous, self._last, last = gray, index, self._last
        if index % self.chunk_frames == 0 or index != last + 1 or previous is None:
            self._map = np.eye(3)
            return self._map[:2].copy()
        step = _step(previous, gray, f)
        if step is not None:  # unsure (a cut, a flash, no detail): the mark stays where it was
            self._map = step @ self._map
        scale = float(np.sqrt(abs(np.linalg.det(self._map[:2, :2]))))
        turn = abs(float(np.arctan2(self._map[1, 0], self._map[0, 0])))
        if not SCALES[0] <= scale <= SCALES[1] or turn > MAX_TURN:
            self._map = np.eye(3)  # the mark starts again here (the detector finds it at any offset)
        return self._map[:2].copy()


def _step(before: Gray, after: Gray, f: float) -> Affine | None:
    """The similarity (shift, zoom, turn) from the previous frame to this one in frame pixels: corners
    tracked by pyramidal Lucas-Kanade flow, the consensus of their moves; None when unsure."""
    if before.shape != after.shape:
        return None
    points = cv2.goodFeaturesToTrack(before, maxCorners=150, qualityLevel=0.01, minDistance=8)
    if points is None or len(points) < MIN_POINTS:
        return None
    moved, status, _ = cv2.calcOpticalFlowPyrLK(before, after, points, None)
    ok = status.ravel() == 1
    if int(ok.sum()) < MIN_POINTS:
        return None
    a, b = points[ok].reshape(-1, 2) / f, moved[ok].reshape(-1, 2) / f
    m, inliers = cv2.estimateAffinePartial2D(a, b, ransacReprojThreshold=1.0 / f)
    if m is None or int(inliers.sum()) < MIN_POINTS:
        return None
    return np.vstack([m, [0.0, 0.0, 1.0]])
