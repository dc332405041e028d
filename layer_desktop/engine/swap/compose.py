"""The last step every swap backend shares: occlusion, light and detail, applied to a swapped crop.

A backend produces the persona's face already placed on the target (``swapped``, rect-sized) and a base
blend mask; ``compose`` takes out what is in front of the face, puts the persona's face under the
target's light (or, with ``relight`` off, matches colours the old way) and returns what to blend.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from layer_desktop.engine.faces.types import ImageRGB
from layer_desktop.engine.swap.colour import match_detail, transfer_lab
from layer_desktop.engine.swap.lighting import relight
from layer_desktop.engine.swap.masks import Mask
from layer_desktop.engine.swap.occlusion import Occluder, find_occlusion, occlusion_weight
from layer_desktop.engine.swap.options import SwapOptions

# px: the light/structure split never goes below this. On a small face (a wide shot's 30-50 px) the
# persona is its coarse structure (brows, eye sockets, glasses) at a few pixels' scale: a split at a
# fixed fraction of the face would hand that back to the target and leave nobody recognisable
MIN_LIGHT_SIGMA = 10.0
# px: below this face size the persona photo, already shrunk to the face (INTER_AREA), has no finer
# texture than the video, and softening it further only blurs away who it is
FIT_DETAIL_MIN = 64.0


@dataclass(frozen=True)
class Composed:
    """The crop to blend in, its final mask, and the occlusion found (1 = in front of the face)."""

    image: ImageRGB
    mask: Mask
    occluded: Mask


def compose(
    swapped: ImageRGB,
    crop: ImageRGB,
    mask: Mask,
    points: NDArray[np.float64] | None,
    face_size: float,
    options: SwapOptions,
    occluders: Sequence[Occluder] = (),
) -> Composed:
    """``swapped`` made ready to blend into ``crop`` (the frame's pixels under the rect).

    ``points`` are the target's 468 landmarks in crop pixels (None: no occlusion check is possible).
    """
    if points is not None and occluders:
        occluded = find_occlusion(occluders, crop, points, face_size)
    else:
        occluded = np.zeros(mask.shape, np.float32)
    keep = occlusion_weight(occluded, face_size)
    final = np.asarray(mask * keep, np.float32)
    inside = final > 0.5
    image = swapped
    if options.colour_transfer and options.relight:
        skin = (mask > 0.5).astype(np.float32)
        sigma = max(options.light_scale * face_size, MIN_LIGHT_SIGMA)
        fit = options.match_detail and face_size >= FIT_DETAIL_MIN
        target_skin = skin * (keep > 0.999)
        return Composed(
            relight(image, crop, skin, target_skin, sigma, options.skin_tone, fit, _edge_fade(mask)),
            final,
            occluded,
        )
    if options.match_detail:
        image = match_detail(image, crop, inside)
    if options.colour_transfer:
        image = transfer_lab(image, crop, inside)
    return Composed(image, final, occluded)


def _edge_fade(mask: Mask) -> Mask:
    """1 inside the face, falling to 0 where the blend mask is 0.4 (its soft edge): there the mix of
    two textures (and the persona's glasses or hair reaching the hull) would draw a seam; the light is
    the target's on both sides already."""
    x = np.clip((mask - 0.4) / 0.6, 0.0, 1.0)
    return np.asarray(x * x * (3.0 - 2.0 * x), np.float32)
