"""Identity embedders: ArcFace w600k (512-d) and SFace (128-d), on ONNX Runtime.

Both take a 112x112 crop aligned to the ArcFace template by the face's 5 points and return an
L2-normalised float32 vector; cosine similarity is then a dot product.
"""

from __future__ import annotations

import logging
from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from layer_desktop.engine.faces.align import five_points, norm_crop
from layer_desktop.engine.faces.onnx_session import (
    ModelSource,
    check_input,
    open_session,
    run_single,
    to_blob,
)
from layer_desktop.engine.faces.types import Face, ImageRGB
from layer_desktop.errors import ModelError

log = logging.getLogger(__name__)


@runtime_checkable
class Embedder(Protocol):
    """Turns a face into an identity vector. ``model_id`` names the model (embeddings of different
    models are never compared)."""

    model_id: str

    def embed(self, rgb: ImageRGB, face: Face) -> NDArray[np.float32]:
        """The L2-normalised embedding of ``face`` in ``rgb``."""
        ...


def l2_normalise(v: NDArray[np.floating]) -> NDArray[np.float32]:
    """``v / |v|`` as float32 (a zero vector stays zero)."""
    flat = np.asarray(v, dtype=np.float64).reshape(-1)
    norm = float(np.linalg.norm(flat))
    return (flat / norm if norm > 0 else flat).astype(np.float32)


def cosine_similarity(a: NDArray[np.floating], b: NDArray[np.floating]) -> float:
    """Cosine similarity of two embeddings."""
    return float(np.dot(l2_normalise(a), l2_normalise(b)))


class _AlignedEmbedder:
    size = 112
    mean = 0.0
    std = 1.0
    dim = 0
    what = "embedder"

    def __init__(self, model: ModelSource, *, model_id: str) -> None:
        self.model_id = model_id
        self.session = open_session(model)
        self.input_name = check_input(self.session, (1, 3, self.size, self.size), self.what)

    def aligned(self, rgb: ImageRGB, face: Face) -> ImageRGB:
        """The aligned 112x112 RGB crop the model sees."""
        crop, _ = norm_crop(rgb, five_points(face), self.size)
        return crop

    def embed(self, rgb: ImageRGB, face: Face) -> NDArray[np.float32]:
        """The L2-normalised embedding; ``ModelError`` if the model's output has the wrong size."""
        blob = to_blob(self.aligned(rgb, face), self.mean, self.std)
        (out, *_) = run_single(self.session, self.input_name, blob)
        if out.size != self.dim:
            raise ModelError(f"The {self.what} model returned {out.size} values, expected {self.dim}.")
        return l2_normalise(out)


class ArcFaceEmbedder(_AlignedEmbedder):
    """insightface ArcFace (``w600k_r50``): RGB, ``(x - 127.5) / 127.5``, 512-d."""

    mean = 127.5
    std = 127.5
    dim = 512
    what = "ArcFace"

    def __init__(self, model: ModelSource, *, model_id: str = "w600k_r50") -> None:
        super().__init__(model, model_id=model_id)


class SFaceEmbedder(_AlignedEmbedder):
    """OpenCV Zoo SFace (``FaceRecognizerSF``): RGB 0..255 unscaled (``blobFromImage`` with
    ``swapRB``), input ``data`` → ``fc1`` 128-d."""

    dim = 128
    what = "SFace"

    def __init__(self, model: ModelSource, *, model_id: str = "sface_2021dec") -> None:
        super().__init__(model, model_id=model_id)
