"""A model hook for occlusion: XSeg-class ONNX segmenters (DeepFaceLab's XSeg, FaceFusion's occluder).

Their published signature (FaceFusion's and VisoMaster's loaders): input ``in_face:0`` [N, 256, 256, 3]
float32, a square face crop as BGR in [0, 1] (channels last); output ``out_mask:0`` [N, 256, 256, 1],
1 where the face is visible. As FaceFusion does, the output is read as "face" above 0.5 after a small
blur; occlusion is its complement, mapped back to the crop.
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from layer_desktop.engine.faces.onnx_session import ModelSource, check_input, open_session, run_single
from layer_desktop.engine.faces.topology import FACE_OVAL
from layer_desktop.engine.faces.types import ImageRGB
from layer_desktop.engine.swap.masks import Mask
from layer_desktop.errors import ModelError

SIZE = 256
MARGIN = 0.1  # of the face oval's larger side, on each side of the square crop


def _square_affine(points: NDArray[np.float64]) -> NDArray[np.float64]:
    """Crop pixels → model pixels: the face oval's bounding square (with margin) onto SIZE x SIZE."""
    oval = points[list(FACE_OVAL)]
    lo, hi = oval.min(axis=0), oval.max(axis=0)
    side = float(max(hi - lo)) * (1.0 + 2.0 * MARGIN)
    centre = (lo + hi) / 2.0
    s = SIZE / max(side, 1.0)
    return np.array([[s, 0.0, SIZE / 2.0 - s * centre[0]], [0.0, s, SIZE / 2.0 - s * centre[1]]])


class OnnxOccluder:
    """Occlusion from an XSeg-class model; ``model`` is the ONNX file or a session."""

    def __init__(self, model: ModelSource, name: str = "xseg") -> None:
        self.name = name
        self.session = open_session(model)
        self.input_name = check_input(self.session, (1, SIZE, SIZE, 3), "occlusion")
        outs = self.session.get_outputs()
        shape = list(outs[0].shape) if outs else []
        if len(shape) != 4 or shape[1:3] != [SIZE, SIZE] or shape[3] != 1:
            raise ModelError(f"The occlusion model returns {shape}, expected [N, {SIZE}, {SIZE}, 1].")

    def occlusion(self, crop: ImageRGB, points: NDArray[np.float64], face_size: float) -> Mask:
        """1 where the model sees something in front of the face, in crop pixels."""
        m = _square_affine(points)
        face = cv2.warpAffine(crop, m, (SIZE, SIZE), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        blob = (face[..., ::-1].astype(np.float32) / 255.0)[None]
        (out, *_) = run_single(self.session, self.input_name, blob)
        visible = np.clip(np.asarray(out, np.float32).reshape(SIZE, SIZE), 0.0, 1.0)
        visible = (cv2.GaussianBlur(np.clip(visible, 0.5, 1.0), (0, 0), 2.0) - 0.5) * 2.0
        h, w = crop.shape[:2]
        back = cv2.warpAffine(
            1.0 - visible, m, (w, h), flags=cv2.WARP_INVERSE_MAP | cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT, borderValue=0.0,
        )  # fmt: skip
        return np.asarray(np.clip(back, 0.0, 1.0), np.float32)
