"""Optional post-stage: face restoration (GFPGAN v1.4, ONNX) inside the swapped area. Off by default."""

from __future__ import annotations

import cv2
import numpy as np

from layer_desktop.engine.faces.align import five_points, umeyama
from layer_desktop.engine.faces.geometry import invert_affine
from layer_desktop.engine.faces.onnx_session import ModelSource, check_input, open_session, run_single
from layer_desktop.engine.faces.types import Face, ImageRGB
from layer_desktop.engine.swap.types import SwapResult, blend_into

SIZE = 512
# FFHQ 512 alignment points (eyes, nose, mouth corners), as GFPGAN's face helper uses
FFHQ_512 = np.array(
    [[192.98138, 239.94708], [318.90277, 240.1936], [256.63416, 314.01935], [201.26117, 371.41043],
     [313.08905, 371.15118]], dtype=np.float64,
)  # fmt: skip


class GfpganEnhancer:
    """Restores the face crop and mixes it back (``blend`` of the restored face) inside the swap mask."""

    name = "gfpgan"

    def __init__(self, model: ModelSource, blend: float = 0.8) -> None:
        self.session = open_session(model)
        self.input_name = check_input(self.session, (1, 3, SIZE, SIZE), "GFPGAN")
        self.blend = blend

    def enhance(self, rgb: ImageRGB, face: Face, result: SwapResult) -> None:
        """Restore ``face`` in ``rgb`` in place, only where ``result.mask`` is set."""
        if result.rect.empty:
            return
        m = umeyama(five_points(face), FFHQ_512)
        crop = cv2.warpAffine(rgb, m, (SIZE, SIZE), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        blob = ((crop.astype(np.float32) / 255.0 - 0.5) / 0.5).transpose(2, 0, 1)[None]
        (out, *_) = run_single(self.session, self.input_name, blob)
        restored = np.clip((out[0].transpose(1, 2, 0) * 0.5 + 0.5) * 255.0 + 0.5, 0, 255).astype(np.uint8)
        r = result.rect
        inv = invert_affine(m)
        inv[:, 2] -= (r.x0, r.y0)
        back = cv2.warpAffine(
            restored, inv, (r.width, r.height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
        blend_into(rgb, r, np.asarray(back, np.uint8), result.mask * np.float32(self.blend))
