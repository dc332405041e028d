"""Piecewise-affine warp of one face onto another's landmarks: a triangle mesh, one affine per triangle.

The target region is rasterised once into a triangle-id map; each pixel then takes its triangle's
affine (target → source) and one ``cv2.remap`` samples the source image. The map is continuous across
triangle edges, so there are no seams inside the face.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray
from scipy.spatial import Delaunay

from layer_desktop.engine.faces.types import ImageRGB

IntArray = NDArray[np.int32]
_SHIFT = 4  # sub-pixel bits for cv2 polygon filling


@dataclass(frozen=True)
class Rect:
    """A pixel rectangle [x0, x1) x [y0, y1) of a frame."""

    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    @property
    def empty(self) -> bool:
        return self.width <= 0 or self.height <= 0

    def slices(self) -> tuple[slice, slice]:
        return slice(self.y0, self.y1), slice(self.x0, self.x1)

    @classmethod
    def around(cls, points: NDArray[np.floating], pad: float, width: int, height: int) -> Rect:
        """The bounding rectangle of ``points`` grown by ``pad`` pixels, clipped to the frame."""
        lo = np.floor(points.min(axis=0) - pad).astype(int)
        hi = np.ceil(points.max(axis=0) + pad).astype(int) + 1
        return cls(max(0, lo[0]), max(0, lo[1]), min(width, hi[0]), min(height, hi[1]))


def triangulate(points: NDArray[np.floating]) -> IntArray:
    """Delaunay triangles (T, 3) over 2-D ``points``; degenerate (zero-area) triangles removed."""
    tri = np.asarray(Delaunay(np.asarray(points, dtype=np.float64)).simplices, dtype=np.int32)
    p = np.asarray(points, dtype=np.float64)[tri]
    u, v = p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]
    area = np.abs(u[:, 0] * v[:, 1] - u[:, 1] * v[:, 0])
    return np.ascontiguousarray(tri[area > 1e-6])


def fill_polygon(canvas: NDArray[np.generic], points: NDArray[np.floating], value: float) -> None:
    """Fill a polygon given in float pixel coordinates (sub-pixel accurate) into ``canvas``."""
    pts = np.round(np.asarray(points, dtype=np.float64) * (1 << _SHIFT)).astype(np.int32)
    cv2.fillPoly(canvas, [pts], value, lineType=cv2.LINE_8, shift=_SHIFT)  # type: ignore[arg-type]


def _affines(src: NDArray[np.float64], dst: NDArray[np.float64], tri: IntArray) -> NDArray[np.float64]:
    """Per triangle, the (3, 2) matrix M with [x, y, 1] @ M = source point, for target (x, y)."""
    d = np.concatenate([dst[tri], np.ones((len(tri), 3, 1))], axis=2)  # (T, 3, 3)
    return np.asarray(np.linalg.pinv(d) @ src[tri], dtype=np.float64)  # (T, 3, 2)


def warp_mesh(
    source: ImageRGB,
    source_points: NDArray[np.floating],
    target_points: NDArray[np.floating],
    triangles: IntArray,
    rect: Rect,
) -> tuple[ImageRGB, NDArray[np.bool_]]:
    """``source`` warped so that ``source_points`` land on ``target_points`` (frame pixels), inside ``rect``.

    Returns the warped crop (rect-sized) and the mask of pixels covered by a triangle.
    """
    src = np.asarray(source_points, dtype=np.float64)[:, :2]
    dst = np.asarray(target_points, dtype=np.float64)[:, :2] - (rect.x0, rect.y0)
    ids = np.full((rect.height, rect.width), -1, dtype=np.int32)
    # every triangle's fixed-point corners in one numpy step; only the fillPoly calls stay in the loop
    # (the same rounding as fill_polygon, so the triangle-id raster is identical)
    fixed = np.round(dst[triangles] * (1 << _SHIFT)).astype(np.int32)
    for t in range(len(fixed)):
        cv2.fillPoly(ids, [fixed[t]], t, lineType=cv2.LINE_8, shift=_SHIFT)
    covered = ids >= 0
    m = _affines(src, dst, triangles).astype(np.float32)[np.maximum(ids, 0)]  # (h, w, 3, 2)
    ys, xs = np.mgrid[0 : rect.height, 0 : rect.width].astype(np.float32)
    map_x = xs * m[..., 0, 0] + ys * m[..., 1, 0] + m[..., 2, 0]
    map_y = xs * m[..., 0, 1] + ys * m[..., 1, 1] + m[..., 2, 1]
    warped = cv2.remap(source, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return np.asarray(warped, dtype=np.uint8), covered
