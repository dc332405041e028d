"""What is in front of the face (a microphone, a hand, hair): found per frame, kept out of the swap.

An ``Occluder`` returns, for a face crop and its 468 landmarks (crop pixels), a map in [0, 1] of what
covers the face (1 = something in front). The offline default, ``SkinOccluder``, fits a skin model to
the target face itself in every frame and marks what does not fit it:

- colour: rg chromaticity (brightness-free, so a side light or a shadow does not look foreign), a robust
  median/MAD model of the cheeks and forehead, and a second one of the lips so lips stay face; and
  saturation, which skin keeps in light and shade and a silver or black object lacks;
- darkness: a pixel far darker than the face's own (blurred) shading around it, with a sharp edge, is
  an object, not a shadow (shadows are smooth, so the blurred shading follows them);

then drops specks smaller than a small fraction of the face (pores, moles, nostrils). Decisions are soft
ramps, not thresholds, so a borderline patch cannot blink from frame to frame. Eyebrows and the eyes
are never marked: the persona's brows and lids replace the target's. ``occlusion_weight`` turns the
map into the factor the blend mask is multiplied by: the occluder fully kept, grown by a margin,
feathered only onto the face.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import cv2
import numpy as np
from numpy.typing import NDArray

from layer_desktop.engine.faces.topology import FACE_OVAL, LEFT_EYE, LIPS_INNER, LIPS_OUTER, RIGHT_EYE
from layer_desktop.engine.faces.types import ImageRGB
from layer_desktop.engine.swap.lighting import masked_blur
from layer_desktop.engine.swap.masks import Mask
from layer_desktop.engine.swap.options import SwapOptions
from layer_desktop.engine.swap.warp import fill_polygon

WORK_SIZE = 120.0  # px: the face width the skin check works at (larger faces are reduced to it)
# Face Mesh eyebrow outlines (subject's right, then left), as closed polygons
RIGHT_BROW = (70, 63, 105, 66, 107, 55, 65, 52, 53, 46)
LEFT_BROW = (300, 293, 334, 296, 336, 285, 295, 282, 283, 276)


class Occluder(Protocol):
    """Finds what covers a face; ``points`` are the 468 landmarks in crop pixels."""

    name: str

    def occlusion(self, crop: ImageRGB, points: NDArray[np.float64], face_size: float) -> Mask: ...


def _polygons(shape: tuple[int, int], polys: Sequence[NDArray[np.float64]]) -> NDArray[np.bool_]:
    canvas = np.zeros(shape, np.uint8)
    for poly in polys:
        fill_polygon(canvas, poly, 255)
    return canvas > 0


def _grow(region: NDArray[np.bool_], px: float) -> NDArray[np.bool_]:
    k = max(1, round(px) * 2 + 1)
    return np.asarray(cv2.dilate(region.astype(np.uint8), np.ones((k, k), np.uint8)) > 0)


def _robust(values: NDArray[np.float32], floor: float) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    med = np.median(values, axis=0)
    mad = np.median(np.abs(values - med), axis=0) * 1.4826
    return med.astype(np.float32), np.maximum(mad, floor).astype(np.float32)


def _ramp(x: NDArray[np.float32], lo: float, hi: float) -> Mask:
    """0 below ``lo``, 1 above ``hi``, smooth between: a soft decision that moves continuously with the
    pixels, so a borderline patch fades instead of blinking on and off from frame to frame."""
    t = np.clip((x - lo) / (hi - lo), 0.0, 1.0)
    return np.asarray(t * t * (3.0 - 2.0 * t), np.float32)


class SkinOccluder:
    """The offline occlusion finder (no model): colour and shading consistency with the face's own skin."""

    name = "skin"

    def __init__(self, chroma_z: tuple[float, float] = (3.5, 5.5), dark: tuple[float, float] = (0.6, 0.42),
                 speck: float = 0.05) -> None:  # fmt: skip
        self.chroma_z, self.dark, self.speck = chroma_z, dark, speck

    def occlusion(self, crop: ImageRGB, points: NDArray[np.float64], face_size: float) -> Mask:
        """1 where something covers the face, in crop pixels. A large face is checked at WORK_SIZE
        (its map is smooth at that scale, and the margin ``occlusion_weight`` adds covers the rest)."""
        f = WORK_SIZE / face_size
        if f >= 0.8:
            return self._occlusion(crop, points, face_size)
        h, w = crop.shape[:2]
        small = cv2.resize(crop, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA)
        found = self._occlusion(np.asarray(small, np.uint8), points * f, WORK_SIZE)
        return np.asarray(cv2.resize(found, (w, h), interpolation=cv2.INTER_LINEAR), np.float32)

    def _occlusion(self, crop: ImageRGB, points: NDArray[np.float64], face_size: float) -> Mask:
        shape = crop.shape[:2]
        face = _polygons(shape, [points[list(FACE_OVAL)]])
        lips = _polygons(shape, [points[list(LIPS_OUTER)]]) & ~_polygons(shape, [points[list(LIPS_INNER)]])
        eyes = _grow(_polygons(shape, [points[list(RIGHT_EYE)], points[list(LEFT_EYE)]]), 0.04 * face_size)
        brows = _grow(_polygons(shape, [points[list(RIGHT_BROW)], points[list(LEFT_BROW)]]), 0.02 * face_size)
        k = max(1, int(0.06 * face_size))
        inner = cv2.erode(face.astype(np.uint8), np.ones((3, 3), np.uint8), iterations=k) > 0
        skin = inner & ~eyes & ~brows & ~_grow(lips, 0.02 * face_size)
        if skin.sum() < 64:
            return np.zeros(shape, np.float32)
        rgb = crop.astype(np.float32)
        r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]  # channel views: numpy reduces over a last axis
        total = r + g + b + 1.0  # of 3 slowly, and this runs on every frame
        chroma = np.stack([r / total, g / total], axis=2)
        lo, hi = self.chroma_z
        foreign = np.maximum(_ramp(self._z(chroma, skin), lo, hi), self._grey(rgb, skin))
        # lips are redder than the skin, never greyer: that keeps teeth and whatever covers the mouth
        # out of the lips' own model, which then excuses only lip-coloured pixels near the mouth
        med_r = float(np.median(chroma[skin][:, 0]))
        lips_sample = lips & (chroma[..., 0] >= med_r)
        if int(lips_sample.sum()) >= 8:
            near_lips = _grow(lips, 0.03 * face_size)
            lip_like = _ramp(self._z(chroma, lips_sample), lo, hi)
            foreign = np.where(near_lips, np.minimum(foreign, lip_like), foreign)
        foreign = np.maximum(foreign, self._dark(rgb, skin & (foreign < 0.5), face_size))
        foreign *= face & ~brows & ~eyes
        return self._clean(foreign, face_size)

    @staticmethod
    def _z(chroma: NDArray[np.float32], sample: NDArray[np.bool_]) -> NDArray[np.float32]:
        med, spread = _robust(chroma[sample], 0.008)
        z0 = (chroma[..., 0] - med[0]) / spread[0]
        z1 = (chroma[..., 1] - med[1]) / spread[1]
        return np.asarray(np.sqrt(z0 * z0 + z1 * z1), np.float32)

    @staticmethod
    def _grey(rgb: NDArray[np.float32], skin: NDArray[np.bool_]) -> Mask:
        """Colourless pixels: skin keeps its saturation in light and in shadow, a silver or black
        object (a microphone, a stand, a white cable) has almost none."""
        r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
        hi = np.maximum(np.maximum(r, g), b)
        sat = (hi - np.minimum(np.minimum(r, g), b)) / np.maximum(hi, 1.0)
        ref = max(float(np.median(sat[skin])), 0.05)
        return 1.0 - _ramp(np.asarray(sat / ref, np.float32), 0.25, 0.45)

    def _dark(self, rgb: NDArray[np.float32], skin: NDArray[np.bool_], face_size: float) -> Mask:
        grey = np.asarray((rgb[..., 0] + rgb[..., 1] + rgb[..., 2]) / 3.0, np.float32)[..., None]
        shading = masked_blur(grey, skin.astype(np.float32), 0.08 * face_size)[..., 0]
        ratio = np.asarray(grey[..., 0] / np.maximum(shading, 1.0), np.float32)
        return 1.0 - _ramp(ratio, self.dark[1], self.dark[0])

    def _clean(self, foreign: Mask, face_size: float) -> Mask:
        """Grey-level opening: removes specks (pores, moles, a nostril) narrower than ``speck`` of the
        face, keeps anything larger (a microphone, fingers, a lock of hair) with its soft values."""
        k = max(3, int(self.speck * face_size) | 1)
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
        return np.asarray(cv2.morphologyEx(foreign, cv2.MORPH_OPEN, kernel), np.float32)


def occlusion_weight(occluded: Mask, face_size: float, grow: float = 0.02, feather: float = 0.03) -> Mask:
    """The factor for the blend mask: 0 on what is in front of the face (grown by ``grow`` of the face
    size, so its soft edge and the codec's ringing stay the target's), rising to 1 over ``feather``.

    Continuous in ``occluded`` (grey dilation, then a blur that only ever adds), so a soft map gives a
    soft, temporally steady weight.
    """
    if float(occluded.max()) <= 0.0:
        return np.ones(occluded.shape, np.float32)
    g = max(1, round(grow * face_size)) * 2 + 1
    grown = cv2.dilate(occluded, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (g, g)))
    spread = cv2.GaussianBlur(grown, (0, 0), max(feather * face_size / 2.0, 0.5))
    return np.asarray(1.0 - np.clip(np.maximum(grown, spread * 2.0), 0.0, 1.0), np.float32)


def find_occlusion(
    occluders: Sequence[Occluder], crop: ImageRGB, points: NDArray[np.float64], face_size: float
) -> Mask:
    """The union (max) of what every occluder finds; zeros when there are none."""
    out = np.zeros(crop.shape[:2], np.float32)
    for occ in occluders:
        out = np.maximum(out, occ.occlusion(crop, points, face_size))
    return out


def default_occluders(options: SwapOptions) -> tuple[Occluder, ...]:
    """The model-free occluders ``options`` asks for (a model occluder is added by the registry)."""
    return () if options.occlusion == "none" else (SkinOccluder(),)
