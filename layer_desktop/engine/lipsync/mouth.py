"""The offline mouth renderer: a piecewise-affine warp of the lower face on the Face Mesh.

Per frame, the mouth parameters (open, width, pucker) move the lips, chin and jaw: the lower lip is
first brought onto the upper lip (so a mouth open in the source can close), then dropped by the
opening, with the jaw following with a falloff from the mouth corners down to the chin; the corners
move out (width) or in (pucker). Fixed anchors around the region hold the rest of the face. The
inner-mouth cavity is painted inside the moved inner-lip outline (dark throat, upper teeth under
the upper lip, lower teeth when wide open), lit like the face around it. Everything is blended in
with a soft lower-face mask that is exactly 0 outside its hull, so no other pixel changes.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from layer_desktop.engine.faces.types import ImageRGB
from layer_desktop.engine.lipsync.sync import inter_ocular
from layer_desktop.engine.swap.warp import Rect, fill_polygon, triangulate, warp_mesh

F64 = NDArray[np.float64]
Mask = NDArray[np.float32]

UPPER_INNER = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308)
LOWER_INNER = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308)
UPPER_OUTER = (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291)
LOWER_OUTER = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291)
JAW = (132, 58, 172, 136, 150, 149, 176, 148, 152, 377, 400, 378, 379, 365, 397, 288, 361)
LOWER_FACE = (
    *(93, 132, 58, 172, 136, 150, 149, 176, 148, 152, 377, 400, 378, 379, 365, 397, 288, 361, 323),
    *(425, 266, 2, 36, 205),
)  # the blend hull: jaw from ear to ear, closed over the cheeks under the nose
FIXED = (1, 2, 98, 327, 5, 4, 195, 93, 323, 234, 454, 50, 280, 205, 425)
SEAM = 0.03  # inter-ocular distances
MAX_OPEN = 0.48  # inner-lip gap at open = 1, in inter-ocular distances


@dataclass(frozen=True)
class MouthFrame:
    """What the renderer did: the changed rect and the blend mask inside it."""

    rect: Rect
    mask: Mask


class _Axes:
    """The face's own axes: x along the eye line, y down the face; ``centre`` the mouth centre."""

    def __init__(self, lm: F64) -> None:
        eye_r, eye_l = (lm[33] + lm[133]) / 2.0, (lm[263] + lm[362]) / 2.0
        self.x = (eye_l - eye_r) / max(float(np.linalg.norm(eye_l - eye_r)), 1e-6)
        self.y = np.array([-self.x[1], self.x[0]])
        if float(np.dot(lm[152] - lm[1], self.y)) < 0:
            self.y = -self.y
        self.centre = (lm[13] + lm[14]) / 2.0
        self.half_width = max(float(np.linalg.norm(lm[61] - lm[291])) / 2.0, 1.0)

    def along(self, pts: F64) -> tuple[F64, F64]:
        rel = pts - self.centre
        return rel @ self.x, rel @ self.y


def _lip_moves(lm: F64, ax: _Axes, params: NDArray[np.floating], iod: float) -> dict[int, F64]:
    """Displacement of every lip point (frame pixels)."""
    open_, width, pucker = (float(v) for v in params)
    open_px = max(open_, 0.0) * MAX_OPEN * iod
    moves: dict[int, F64] = {}
    for up_in, lo_in, up_out, lo_out in zip(UPPER_INNER, LOWER_INNER, UPPER_OUTER, LOWER_OUTER, strict=True):
        u = min(abs(float((lm[lo_in] - ax.centre) @ ax.x)) / ax.half_width, 1.0)
        bell = 0.3 + 0.7 * (1.0 - u * u)
        close = -float((lm[lo_in] - lm[up_in]) @ ax.y)  # brings the lower lip onto the upper one
        raise_up = -0.08 * open_px * bell
        drop = close + open_px * bell
        side = np.sign(float((lm[lo_in] - ax.centre) @ ax.x))
        dx = side * u * (0.07 * width - 0.14 * pucker) * ax.half_width * 2.0
        for idx, dy in ((up_in, raise_up), (up_out, raise_up), (lo_in, drop), (lo_out, drop)):
            if idx in (78, 308, 61, 291):  # the corners follow half the drop
                dy = (close + open_px * 0.3) * 0.5
            moves[idx] = dx * ax.x + dy * ax.y
    return moves


def _jaw_moves(lm: F64, ax: _Axes, lips: dict[int, F64]) -> dict[int, F64]:
    """The jaw follows the lower lip's mean drop, fading from the chin up to the mouth corners."""
    drop = float(np.mean([lips[i] @ ax.y for i in LOWER_OUTER[1:-1]]))
    _, corner_y = ax.along(lm[[61, 291]])
    _, chin_y = ax.along(lm[[152]])
    top, bottom = float(corner_y.mean()), float(chin_y[0])
    moves = {}
    for idx in JAW:
        _, y = ax.along(lm[[idx]])
        w = float(np.clip((y[0] - top) / max(bottom - top, 1.0), 0.0, 1.0))
        moves[idx] = (0.85 * drop * w) * ax.y
    return moves


def _anchors(lm: F64, iod: float, width: int, height: int) -> F64:
    """Fixed points on an ellipse around the lower face, beyond the blend mask's reach."""
    pts = lm[list(LOWER_FACE)]
    centre = pts.mean(axis=0)
    radius = np.abs(pts - centre).max(axis=0) + 0.45 * iod
    angles = np.linspace(0, 2 * np.pi, 16, endpoint=False)
    ring = centre + np.stack([np.cos(angles), np.sin(angles)], axis=1) * radius
    return np.asarray(np.clip(ring, [0, 0], [width - 1, height - 1]), np.float64)


def control_points(
    lm: F64, params: NDArray[np.floating], width: int, height: int
) -> tuple[list[int], F64, F64, float]:
    """The mesh ids moved or held, (source, target) control points (frame pixels: those ids first, then
    fixed anchors) for ``params``, and the inter-ocular distance."""
    iod = inter_ocular(lm)
    ax = _Axes(lm)
    moves = _lip_moves(lm, ax, params, iod)
    moves.update(_jaw_moves(lm, ax, moves))
    ids = sorted(set(moves) | set(FIXED) | set(LOWER_FACE))
    dst = lm[ids] + np.array([moves.get(i, np.zeros(2)) for i in ids])
    src = lm[ids].copy()
    # the lips' inner edges are sampled from a little inside the lips: the mesh puts them on the
    # anti-aliased edge, which would leave a light seam of teeth where the lips meet
    for row, i in enumerate(ids):
        if i in UPPER_INNER[1:-1]:
            src[row] -= SEAM * iod * ax.y
        elif i in LOWER_INNER[1:-1]:
            src[row] += SEAM * iod * ax.y
    ring = _anchors(lm, iod, width, height)
    return ids, np.vstack([src, ring]), np.vstack([dst, ring]), iod


def _blend_mask(points: F64, rect: Rect, feather: float) -> Mask:
    hull = cv2.convexHull(points.astype(np.float32)).reshape(-1, 2).astype(np.float64)
    region = np.zeros((rect.height, rect.width), np.uint8)
    fill_polygon(region, hull - (rect.x0, rect.y0), 255)
    depth = cv2.distanceTransform(region, cv2.DIST_L2, 3).astype(np.float32)
    x = np.clip(depth / max(feather, 1.0), 0.0, 1.0)
    return np.asarray(x * x * (3.0 - 2.0 * x), np.float32)


def _light(rgb: ImageRGB, lm: F64) -> float:
    """Brightness of the skin beside the mouth relative to a mid skin tone (0.5 .. 1.3)."""
    h, w = rgb.shape[:2]
    samples = []
    for idx in (205, 425, 199, 18):
        x, y = (round(v) for v in lm[idx])
        if 0 <= x < w and 0 <= y < h:
            samples.append(float(rgb[max(0, y - 2) : y + 3, max(0, x - 2) : x + 3].mean()))
    return float(np.clip(np.median(samples) / 150.0, 0.5, 1.3)) if samples else 1.0


# where one tooth meets the next, from the middle of the mouth outwards (fractions of the inter-ocular
# distance: central incisors ~8.5 mm, laterals ~6.5 mm, canines ~7.5 mm against ~63 mm between the eyes)
UPPER_GAPS = (0.0, 0.135, 0.24, 0.36)
# ivory, not grey: a neutral grey beside warm skin reads as blue (seen on a talking head of a warm-lit face)
UPPER_TEETH = np.array([212.0, 198.0, 170.0])
LOWER_TEETH = np.array([182.0, 168.0, 146.0])
LOWER_GAPS = (0.0, 0.085, 0.17, 0.26)


def _tooth_shade(
    shape: tuple[int, int], edge: F64, ax: _Axes, iod: float, depth: float, gaps: tuple[float, ...]
) -> F64:
    """A brightness factor (0.5 .. 1) for a row of teeth hanging ``depth`` pixels from ``edge`` (the lip
    line, rect pixels; negative depth: teeth standing up from the lower lip): darker towards the corners
    and in the lip's shadow, with faint gaps between the teeth. Flat white bands look painted on."""
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w]
    pts = np.stack([xx, yy], axis=-1).astype(np.float64)
    mid = (edge[0] + edge[-1]) / 2.0
    u_edge, v_edge = (edge - mid) @ ax.x, (edge - mid) @ ax.y
    order = np.argsort(u_edge)
    u, v = (pts - mid) @ ax.x, (pts - mid) @ ax.y
    below = (v - np.interp(u, u_edge[order], v_edge[order])) / (depth if abs(depth) > 1e-6 else 1.0)
    half = max(float(u_edge.max() - u_edge.min()) / 2.0, 1.0)
    corners = 1.0 - 0.3 * np.clip(2.0 * np.abs(u) / half - 1.0, 0.0, 1.0) ** 2
    lip_shadow = 0.97 + 0.03 * np.clip(below / 0.4, 0.0, 1.0)
    width = 0.012 * iod + 0.35
    seams = np.zeros_like(u)
    for g in gaps:
        for at in {g * iod, -g * iod}:
            seams = np.maximum(seams, np.exp(-(((u - at) / width) ** 2)))
    # a sliver of teeth in a nearly closed mouth stays bright: shaded, it reads as an open, dark gap
    full = float(np.clip(abs(depth) / (0.06 * iod), 0.0, 1.0))
    return np.asarray(1.0 - full * (1.0 - corners * lip_shadow * (1.0 - 0.12 * seams)), np.float64)


def _cavity(shape: tuple[int, int], inner: F64, ax: _Axes, iod: float, light: float) -> tuple[Mask, F64]:
    """The mouth opening's alpha and colour (rect-sized), from the moved inner-lip outline."""
    h, w = shape
    upper = inner[: len(UPPER_INNER)]
    lower = inner[len(UPPER_INNER) - 1 :]
    gap = float(np.max((lower[::-1] - upper) @ ax.y))
    alpha = np.zeros((h, w), np.float32)
    # a closed mouth keeps a thin dark seam where the lips meet (the outline of the flat polygon)
    fill_polygon(alpha, inner, 1.0)
    if not alpha.any():
        return alpha, np.zeros((h, w, 3))
    colour = np.empty((h, w, 3))
    colour[:] = np.array([58.0, 22.0, 24.0]) * light
    tooth = min(0.085 * iod, 0.55 * gap)
    if tooth > 0.5:
        front = upper[1:-1]  # the corners of the mouth show throat, not teeth
        band = np.vstack([front, front[::-1] + tooth * ax.y])
        teeth = np.zeros((h, w), np.float32)
        fill_polygon(teeth, band, 1.0)
        shade = _tooth_shade((h, w), front, ax, iod, tooth, UPPER_GAPS)
        colour[teeth > 0] = UPPER_TEETH * light * shade[teeth > 0, None]
    if gap > 0.16 * iod:
        middle = lower[3:-3]  # lower teeth show in the middle only, not as a rim to the corners
        band = np.vstack([middle, middle[::-1] - 0.6 * tooth * ax.y])
        teeth = np.zeros((h, w), np.float32)
        fill_polygon(teeth, band, 1.0)
        shade = _tooth_shade((h, w), middle, ax, iod, -0.6 * tooth, LOWER_GAPS)
        colour[teeth > 0] = LOWER_TEETH * light * shade[teeth > 0, None]
    soft = np.asarray(cv2.GaussianBlur(colour, (0, 0), max(0.6, 0.012 * iod)), np.float64)
    return np.asarray(cv2.GaussianBlur(alpha, (0, 0), 0.7), np.float32), soft


def render_mouth(
    rgb: ImageRGB, landmarks: NDArray[np.floating], params: NDArray[np.floating], strength: float = 1.0
) -> MouthFrame | None:
    """Move the mouth of the face with ``landmarks`` (468 mesh points) in ``rgb`` (in place) to
    ``params`` (open, width, pucker). Returns the changed rect and mask; None when the face is too
    small or outside the frame to change."""
    lm = np.asarray(landmarks, np.float64)[:, :2]
    h, w = rgb.shape[:2]
    ids, src, dst, iod = control_points(lm, params, w, h)
    if iod < 8.0:
        return None
    rect = Rect.around(np.vstack([src, dst]), 2.0, w, h)
    if rect.empty:
        return None
    warped, covered = warp_mesh(rgb, src, dst, triangulate(src), rect)
    row = {i: r for r, i in enumerate(ids)}
    face_rows = [row[i] for i in LOWER_FACE]
    mask = _blend_mask(np.vstack([src[face_rows], dst[face_rows]]), rect, 0.14 * iod)
    mask *= covered.astype(np.float32) * float(np.clip(strength, 0.0, 1.0))
    inner = np.vstack([dst[[row[i] for i in UPPER_INNER]], dst[[row[i] for i in LOWER_INNER[::-1]]][1:]])
    alpha, colour = _cavity(
        (rect.height, rect.width), inner - (rect.x0, rect.y0), _Axes(lm), iod, _light(rgb, lm)
    )
    view = rgb[rect.slices()]
    out = warped.astype(np.float32) * (1.0 - alpha[..., None]) + colour.astype(np.float32) * alpha[..., None]
    blended = view.astype(np.float32) * (1.0 - mask[..., None]) + out * mask[..., None]
    view[:] = np.clip(np.rint(blended), 0, 255).astype(np.uint8)
    return MouthFrame(rect, mask)
