"""The offline default swap: the persona's photo warped onto the target's 468-point mesh.

Per frame: pick the persona photo whose pose is nearest the target's, warp it triangle by triangle onto
the target landmarks, take out what is in front of the face (occlusion), put it under the target's
light (``compose``: the target's low frequencies, the persona's detail), and blend it in with a
soft-edged hull mask that leaves the target's eye openings and mouth interior alone, so gaze, blinks
and speech stay the target's while the lids, brows and skin around them are the persona's. Temporal
smoothing of the landmarks happens before this (in the job's plan), so the warp itself is stateless
and a re-rendered frame comes out as it did the first time.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import cv2
import numpy as np

from layer_desktop.engine.faces.quality import head_pose
from layer_desktop.engine.faces.types import Face, ImageRGB
from layer_desktop.engine.swap.compose import compose
from layer_desktop.engine.swap.masks import MaskOptions, MaskRefiner, face_mask
from layer_desktop.engine.swap.occlusion import Occluder, default_occluders
from layer_desktop.engine.swap.options import SwapOptions
from layer_desktop.engine.swap.types import PersonaFace, SwapResult, blend_into, choose_reference
from layer_desktop.engine.swap.warp import IntArray, Rect, triangulate, warp_mesh
from layer_desktop.errors import NoFaceError

log = logging.getLogger(__name__)


def mask_options(options: SwapOptions) -> MaskOptions:
    return MaskOptions(
        feather=options.feather,
        inset=options.inset,
        keep_eyes=options.keep_eyes,
        keep_mouth=options.keep_mouth,
    )


def _face_crop(p: PersonaFace) -> tuple[ImageRGB, np.ndarray, float]:
    """The photo cut to the face (with a margin), its landmarks in the cut, and the face size."""
    assert p.face.landmarks is not None
    pts = np.asarray(p.face.landmarks, dtype=np.float64)[:, :2]
    r = Rect.around(pts, 0.1 * max(p.face.width, p.face.height), p.rgb.shape[1], p.rgb.shape[0])
    return np.ascontiguousarray(p.rgb[r.slices()]), pts - (r.x0, r.y0), max(p.face.width, p.face.height, 1.0)


class LandmarkSwapper:
    """Triangulated-warp face swap; needs persona photos and target faces with 468 landmarks."""

    name = "landmark"

    def __init__(
        self,
        persona: Sequence[PersonaFace],
        options: SwapOptions | None = None,
        refiners: Sequence[MaskRefiner] = (),
        occluders: Sequence[Occluder] | None = None,
    ) -> None:
        usable = [p for p in persona if p.face.landmarks is not None and len(p.face.landmarks) == 468]
        if not usable:
            raise NoFaceError(
                "None of the persona's photos has a face mesh to warp from.",
                hint="Add a clear, frontal photo to the persona.",
            )
        self.persona = list(usable)
        self.options = options or SwapOptions()
        self.refiners = tuple(refiners)
        self.occluders = default_occluders(self.options) if occluders is None else tuple(occluders)
        self._sources = [_face_crop(p) for p in self.persona]
        self._triangles: list[IntArray] = [triangulate(pts) for _, pts, _ in self._sources]

    def reference_for(self, face: Face) -> int:
        """The persona photo to use for ``face`` (nearest pose)."""
        return choose_reference(self.persona, head_pose(face))

    def swap(self, rgb: ImageRGB, face: Face, reference: int | None = None) -> SwapResult:
        """Swap ``face`` in ``rgb`` in place. Raises ``ValueError`` when ``face`` has no 468 landmarks."""
        if face.landmarks is None or len(face.landmarks) != 468:
            raise ValueError("the landmark swap needs a face with 468 landmarks")
        ref = self.reference_for(face) if reference is None else min(max(reference, 0), len(self.persona) - 1)
        target = np.asarray(face.landmarks, dtype=np.float64)[:, :2]
        size = max(face.width, face.height, 1.0)
        rect = Rect.around(target, 2.0, rgb.shape[1], rgb.shape[0])
        if rect.empty:
            return SwapResult(rect, np.zeros((0, 0), np.float32), ref)
        src_rgb, src_pts, src_size = self._sources[ref]
        scale = size / src_size
        if scale < 1.0:  # shrink the photo to the target's size first: sampling it sparsely would alias
            src_rgb = np.asarray(
                cv2.resize(src_rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA), np.uint8
            )
            src_pts = src_pts * scale
        warped, covered = warp_mesh(src_rgb, src_pts, target, self._triangles[ref], rect)
        crop = rgb[rect.slices()]
        mask = face_mask(target, rect, size, mask_options(self.options), self.refiners, crop) * covered
        points = target - (rect.x0, rect.y0)
        done = compose(warped, crop, mask, points, size, self.options, self.occluders)
        blend_into(rgb, rect, done.image, done.mask)
        return SwapResult(rect, done.mask, ref)
