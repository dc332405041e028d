"""``TiledDetector``: big and small faces from one detector call, for video analysis.

BlazeFace sees the frame shrunk to 128 (short range) or 192 px (full range): a 24 px face in a
1280×720 frame is under 4 px there, too small to find. This detector runs both models on the whole
frame (faces from ~1/7 of the frame up) and the full-range model on overlapping tiles sized so the
smallest wanted face is about 1/14 of a tile (found reliably on the test footage). The tiles are
visited a few per call, in turn: a video detector is called every few frames, and a small face, once
found, is followed by the tracker, so a full sweep every few calls is enough and costs a fraction.
Stateful (the tile turn): one detector per video.
"""

from __future__ import annotations

import logging

import numpy as np

from layer_desktop.engine.faces.blazeface import BlazeFaceConfig, BlazeFaceDetector
from layer_desktop.engine.faces.types import Face, ImageRGB, sort_by_area

log = logging.getLogger(__name__)

FACE_PER_TILE = 14  # tile side / smallest face side that the full-range model still finds
OVERLAP = 0.25


def tile_grid(width: int, height: int, tile: int) -> list[tuple[int, int]]:
    """Top-left corners of square ``tile`` tiles covering the frame with ``OVERLAP``; none when one
    tile would cover most of the frame anyway."""
    if tile >= 0.8 * max(width, height):
        return []

    def starts(length: int) -> list[int]:
        if tile >= length:
            return [0]
        step = int(tile * (1 - OVERLAP))
        out = list(range(0, length - tile, step))
        return [*out, length - tile]

    return [(x, y) for y in starts(height) for x in starts(width)]


def _covered(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """How much of the smaller of two boxes lies inside the other (0..1)."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    small = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return ix * iy / max(small, 1e-6)


def merge(faces: list[Face], covered: float = 0.5) -> list[Face]:
    """Detections of one face (whole frame and tiles; a part of a face inside a whole one) reduced to
    the best-scoring one."""
    kept: list[Face] = []
    for face in sorted(faces, key=lambda f: -f.score):
        if all(_covered(face.bbox, k.bbox) < covered for k in kept):
            kept.append(face)
    return sort_by_area(kept)


class TiledDetector:
    """Whole-frame short range on every call; whole-frame full range plus full range on
    ``tiles_per_call`` tiles on every ``far_every``-th call (and on the first after ``sweep_next``, on
    every tile)."""

    def __init__(
        self, *, min_face: int = 24, tiles_per_call: int = 2, far_every: int = 1, num_threads: int = 1
    ) -> None:
        self.short = BlazeFaceDetector(BlazeFaceConfig(range="short"), num_threads=num_threads)
        self.full = BlazeFaceDetector(BlazeFaceConfig(range="full"), num_threads=num_threads)
        self.tile = max(self.full.spec.input_size, min_face * FACE_PER_TILE)
        self.tiles_per_call = tiles_per_call
        self.far_every = max(1, far_every)  # the full-range passes run on every far_every-th call
        self._calls = 0
        self.name = "blazeface-tiled"
        self._turn = 0
        self._sweep = True

    def sweep_next(self) -> None:
        """On the next call, run the full-range passes, and visit every tile when the whole frame shows
        no face (a new shot, a wide one: find its small faces at once)."""
        self._sweep = True

    def detect(self, rgb: ImageRGB) -> list[Face]:
        """Faces in an RGB uint8 frame, largest first, in frame pixels (no dense landmarks)."""
        h, w = rgb.shape[:2]
        faces = self.short.detect(rgb)
        self._calls += 1
        if not self._sweep and self._calls % self.far_every:
            return merge(faces)
        faces += self.full.detect(rgb)
        grid = tile_grid(w, h, min(self.tile, h, w))
        # a whole sweep only where the frame shows no face at all at its full size (a wide shot)
        sweep = self._sweep and not faces
        count = len(grid) if sweep else min(self.tiles_per_call, len(grid))
        for k in range(count):
            x, y = grid[(self._turn + k) % len(grid)]
            faces.extend(self._in_tile(rgb, x, y, min(self.tile, h, w), (w, h)))
        self._turn = (self._turn + count) % max(len(grid), 1)
        self._sweep = False
        return merge(faces)

    def _in_tile(self, rgb: ImageRGB, x: int, y: int, side: int, frame: tuple[int, int]) -> list[Face]:
        crop = np.ascontiguousarray(rgb[y : y + side, x : x + side])
        out = []
        for f in self.full.detect(crop):
            # a face cut by the tile's edge is the whole-frame passes' (or a neighbour tile's) to find
            x0, y0, x1, y1 = f.bbox
            m = 0.3 * f.width  # the head around the face box must be in the tile too: no half faces
            inner = (
                (x0 > m or x == 0)
                and (y0 > m or y == 0)
                and (x1 < side - m or x + side >= frame[0])
                and (y1 < side - m or y + side >= frame[1])
            )
            if inner and f.width < side / 3:
                shifted = (x0 + x, y0 + y, x1 + x, y1 + y)
                kps = f.keypoints + np.array([x, y], np.float32)
                out.append(Face(bbox=shifted, score=f.score, keypoints=kps))
        return out
