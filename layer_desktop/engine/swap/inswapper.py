"""The ``inswapper`` backend: InsightFace's inswapper_128 ONNX model with paste-back.

The persona's identity is its ArcFace (w600k) embedding: the mean of its photos, normalised, mapped
through the model's ``emap`` (the last initializer of the graph) and normalised again. Each target face
is aligned to the 128 template by its 5 points, swapped, and pasted back through the inverse affine
with a feathered mask, cut to the face hull when the target has its 468 landmarks, and given the same
occlusion check and lighting as the landmark swap (``compose``). Pixel boost (2 or 4) aligns to a
256/512 crop and runs the model on each of the 2x2 / 4x4 pixel-shifted sub-images, so a large face
keeps its resolution.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from layer_desktop.engine.faces.align import align_matrix, five_points
from layer_desktop.engine.faces.embedders import l2_normalise
from layer_desktop.engine.faces.geometry import invert_affine
from layer_desktop.engine.faces.mesh import MESH_POINTS
from layer_desktop.engine.faces.onnx_session import ModelSource, open_session
from layer_desktop.engine.faces.types import Face, ImageRGB
from layer_desktop.engine.swap.compose import compose
from layer_desktop.engine.swap.masks import MaskOptions, face_mask
from layer_desktop.engine.swap.occlusion import Occluder, default_occluders
from layer_desktop.engine.swap.options import SwapOptions
from layer_desktop.engine.swap.types import SwapResult, blend_into
from layer_desktop.engine.swap.warp import Rect
from layer_desktop.errors import ModelError

log = logging.getLogger(__name__)

SIZE = 128


def read_emap(path: str | Path) -> NDArray[np.float32]:
    """The 512x512 ``emap`` matrix: the model file's last initializer. Raises ``ModelError``."""
    import onnx  # only when the model backend is used
    from onnx import numpy_helper

    try:
        graph = onnx.load(str(path), load_external_data=False).graph
        emap = numpy_helper.to_array(graph.initializer[-1]).astype(np.float32)
    except Exception as exc:  # onnx raises DecodeError, IndexError, ... for a wrong file
        raise ModelError(
            f"{Path(path).name} is not a readable inswapper model: {exc}", path=Path(path)
        ) from exc
    if emap.shape != (512, 512):
        raise ModelError(f"{Path(path).name}: the last initializer is {emap.shape}, not the 512x512 emap.")
    return emap


def latent_from(embedding: NDArray[np.floating], emap: NDArray[np.float32]) -> NDArray[np.float32]:
    """The model's ``source`` input: normalised embedding through ``emap``, normalised (1, 512)."""
    latent = l2_normalise(np.asarray(embedding, np.float32).ravel()).reshape(1, -1) @ emap
    return (latent / max(float(np.linalg.norm(latent)), 1e-12)).astype(np.float32)


def mask_options(options: SwapOptions) -> MaskOptions:
    """The hull mask for the model's face: the model keeps the target's eyes and mouth itself."""
    return MaskOptions(feather=options.feather, inset=options.inset, keep_eyes=False, keep_mouth=False)


def _paste_mask(size: int, feather: float) -> NDArray[np.float32]:
    """A crop-sized mask: 1 inside, soft edges, 0 at the border (in crop space)."""
    mask = np.zeros((size, size), np.float32)
    m = max(1, round(size * 0.1))
    mask[m : size - m, m : size - m] = 1.0
    k = max(3, int(size * max(feather, 0.02) * 2) | 1)
    return np.asarray(cv2.GaussianBlur(mask, (k, k), 0), np.float32)


class InswapperSwapper:
    """Model-driven swap; ``model`` is the ONNX file (or a session plus ``emap`` given explicitly)."""

    name = "inswapper"

    def __init__(
        self,
        model: ModelSource,
        embedding: NDArray[np.floating],
        options: SwapOptions | None = None,
        *,
        emap: NDArray[np.float32] | None = None,
        occluders: Sequence[Occluder] | None = None,
    ) -> None:
        if emap is None:
            if not isinstance(model, (str, Path)):
                raise ModelError("An inswapper session needs its emap.")
            emap = read_emap(model)
        self.session = open_session(model)
        self.options = options or SwapOptions()
        names = [i.name for i in self.session.get_inputs()]
        if sorted(names) != ["source", "target"]:
            raise ModelError(f"The inswapper model takes inputs {names}, expected 'target' and 'source'.")
        self._fp16 = "float16" in str(next(i.type for i in self.session.get_inputs() if i.name == "target"))
        self.latent = latent_from(embedding, emap)
        self.occluders = default_occluders(self.options) if occluders is None else tuple(occluders)

    def _run(self, crop: ImageRGB) -> ImageRGB:
        blob = (crop.astype(np.float32) / 255.0).transpose(2, 0, 1)[None]
        dtype = np.float16 if self._fp16 else np.float32
        feed = {"target": blob.astype(dtype), "source": self.latent.astype(dtype)}
        (out, *_) = self.session.run(None, feed)
        img = np.asarray(out, np.float32)[0].transpose(1, 2, 0)
        return np.asarray(np.clip(img * 255.0 + 0.5, 0, 255), dtype=np.uint8)

    def _swap_crop(self, crop: ImageRGB, boost: int) -> ImageRGB:
        if boost == 1:
            return self._run(crop)
        out = np.empty_like(crop)
        for dy in range(boost):
            for dx in range(boost):
                out[dy::boost, dx::boost] = self._run(np.ascontiguousarray(crop[dy::boost, dx::boost]))
        return out

    def aligned(self, rgb: ImageRGB, face: Face) -> tuple[ImageRGB, NDArray[np.float64]]:
        """The model's input crop of ``face`` (ArcFace template at 128 x pixel boost) and its affine."""
        size = SIZE * int(self.options.pixel_boost)
        m = align_matrix(five_points(face), size)
        crop = cv2.warpAffine(rgb, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        return np.asarray(crop, np.uint8), m

    def swapped_crop(self, crop: ImageRGB) -> ImageRGB:
        """The model's output for an aligned crop (as ``INSwapper.get(..., paste_back=False)``, in RGB)."""
        return self._swap_crop(crop, int(self.options.pixel_boost))

    def swap(self, rgb: ImageRGB, face: Face, reference: int | None = None) -> SwapResult:
        """Swap ``face`` in ``rgb`` in place: the model's face pasted back through the inverse affine,
        inside the face hull (with the occlusion check and the target's light) when the face has its
        468 landmarks, inside the crop's feathered square otherwise."""
        crop, m = self.aligned(rgb, face)
        swapped = self.swapped_crop(crop)
        size = crop.shape[0]
        inv = invert_affine(m)
        corners = cv2.transform(np.array([[[0, 0], [size, 0], [0, size], [size, size]]], np.float64), inv)[0]
        rect = Rect.around(corners, 2.0, rgb.shape[1], rgb.shape[0])
        if rect.empty:
            return SwapResult(rect, np.zeros((0, 0), np.float32), None)
        shift = np.array([[1, 0, -rect.x0], [0, 1, -rect.y0]], np.float64)
        to_rect = np.vstack([shift, [0, 0, 1]])[:2] @ np.vstack([inv, [0, 0, 1]])
        dsize = (rect.width, rect.height)
        back = cv2.warpAffine(
            swapped, to_rect, dsize, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
        mask = np.asarray(
            cv2.warpAffine(_paste_mask(size, self.options.feather), to_rect, dsize, flags=cv2.INTER_LINEAR),
            np.float32,
        )
        points = None
        face_size = max(face.width, face.height, 1.0)
        if face.landmarks is not None and len(face.landmarks) == MESH_POINTS:
            target = np.asarray(face.landmarks, np.float64)[:, :2]
            mask = np.minimum(mask, face_mask(target, rect, face_size, mask_options(self.options)))
            points = target - (rect.x0, rect.y0)
        done = compose(np.asarray(back, np.uint8), rgb[rect.slices()], mask, points, face_size,
                       self.options, self.occluders)  # fmt: skip
        blend_into(rgb, rect, done.image, done.mask)
        return SwapResult(rect, done.mask, None)
