"""Analysing a persona's photos: the one face in each, its quality, identity outliers, the thumbnail.

The face work itself is done by ``layer_desktop.engine.faces`` behind ``FaceBackend`` (the seam that
lets another detector, or a test, stand in).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np
from numpy.typing import NDArray

from layer_desktop.engine.faces import Embedder, Face, FaceAnalyzer, FaceQuality, face_quality, load_image
from layer_desktop.errors import ImageError, MultipleFacesError, NoFaceError

ImageRGB = NDArray[np.uint8]
THUMBNAIL_PX = 160


class FaceBackend(Protocol):
    def load_image(self, path: Path) -> ImageRGB: ...

    def detect(self, rgb: ImageRGB) -> list[Face]: ...

    def quality(self, rgb: ImageRGB, face: Face) -> FaceQuality: ...


class DefaultFaceBackend:
    """The offline analyzer (BlazeFace + Face Mesh), created on first use."""

    def __init__(self) -> None:
        self._analyzer: FaceAnalyzer | None = None

    def load_image(self, path: Path) -> ImageRGB:
        return load_image(path)

    def detect(self, rgb: ImageRGB) -> list[Face]:
        if self._analyzer is None:
            self._analyzer = FaceAnalyzer.default()
        return self._analyzer.detect(rgb)

    def quality(self, rgb: ImageRGB, face: Face) -> FaceQuality:
        return face_quality(rgb, face)


@dataclass(frozen=True)
class FaceInput:
    """A photo for a persona; ``face_index`` picks a face (0 = largest) when the photo has several."""

    path: Path
    face_index: int | None = None


@dataclass(frozen=True, eq=False)
class AnalysedFace:
    path: Path
    rgb: ImageRGB
    face: Face
    face_index: int
    quality: FaceQuality
    embedding: NDArray[np.float32] | None = None


def analyse_face(item: FaceInput, backend: FaceBackend, embedder: Embedder | None = None) -> AnalysedFace:
    """Load a photo and pick its face.

    Raises ``ImageError`` when the file is not a usable picture, ``NoFaceError`` when no face is found
    and ``MultipleFacesError`` when several are found and no ``face_index`` was given (or it is out of
    range). Every message names the file.
    """
    path = item.path
    if not path.is_file():
        raise ImageError(f"The picture {path} does not exist.", path=path)
    rgb = backend.load_image(path)
    faces = backend.detect(rgb)
    if not faces:
        raise NoFaceError(f"No face was found in {path}.", path=path)
    index = item.face_index
    if index is None:
        if len(faces) > 1:
            raise MultipleFacesError(
                f"{len(faces)} faces were found in {path}; choose one (0 = the largest).", path=path
            )
        index = 0
    if not 0 <= index < len(faces):
        raise MultipleFacesError(
            f"{path} has {len(faces)} face(s); there is no face number {index} (0 = the largest).", path=path
        )
    face = faces[index]
    vector = embedder.embed(rgb, face) if embedder is not None else None
    return AnalysedFace(path, rgb, face, index, backend.quality(rgb, face), vector)


def outlier_reasons(
    items: Sequence[AnalysedFace], *, min_quality: float, min_similarity: float
) -> list[str | None]:
    """Why each photo should not be used (None = use it): quality below ``min_quality``, or, when
    embeddings are present, cosine similarity to the other photos below ``min_similarity``."""
    reasons: list[list[str]] = [[] for _ in items]
    for i, item in enumerate(items):
        if item.quality.score < min_quality:
            why = ", ".join(item.quality.reasons) or "poor photo"
            reasons[i].append(f"low quality {item.quality.score:.2f} < {min_quality:.2f} ({why})")
    vectors = [it.embedding for it in items]
    if len(items) >= 2 and all(v is not None for v in vectors):
        for i, sim in _identity_outliers([v for v in vectors if v is not None], items, min_similarity):
            reasons[i].append(
                f"does not look like the same person as the other photos (similarity {sim:.2f})"
            )
    return ["; ".join(r) if r else None for r in reasons]


def _identity_outliers(
    vectors: list[NDArray[np.float32]], items: Sequence[AnalysedFace], min_similarity: float
) -> list[tuple[int, float]]:
    mat = np.stack([v / (np.linalg.norm(v) or 1.0) for v in vectors]).astype(np.float64)
    if len(vectors) == 2:
        sim = float(mat[0] @ mat[1])
        if sim >= min_similarity:
            return []
        worse = 0 if items[0].quality.score < items[1].quality.score else 1
        return [(worse, sim)]  # two photos disagree: keep the better one
    out = []
    for i in range(len(vectors)):
        others = np.delete(mat, i, axis=0).mean(axis=0)
        sim = float(mat[i] @ (others / (np.linalg.norm(others) or 1.0)))
        if sim < min_similarity:
            out.append((i, sim))
    return out


def mean_embedding(vectors: Sequence[NDArray[np.float32]]) -> NDArray[np.float32]:
    """The L2-normalised mean of L2-normalised vectors: the persona's identity for one embedder."""
    mean = np.mean(np.stack(vectors).astype(np.float64), axis=0)
    norm = float(np.linalg.norm(mean))
    out: NDArray[np.float32] = (mean / norm if norm > 0 else mean).astype(np.float32)
    return out


def thumbnail_jpeg(item: AnalysedFace, size: int = THUMBNAIL_PX) -> bytes:
    """A square JPEG of the face with some margin, ``size`` pixels wide."""
    h, w = item.rgb.shape[:2]
    x0, y0, x1, y1 = item.face.bbox
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    half = max(x1 - x0, y1 - y0) * 0.8
    half = min(half, cx, cy, w - cx, h - cy) if min(cx, cy, w - cx, h - cy) > 8 else half
    left, top = int(max(cx - half, 0)), int(max(cy - half, 0))
    right, bottom = int(min(cx + half, w)), int(min(cy + half, h))
    crop = item.rgb[top:bottom, left:right]
    if crop.size == 0:
        crop = item.rgb
    small = cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(small, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 88])
    if not ok:
        raise ImageError(f"The thumbnail of {item.path} could not be encoded.", path=item.path)
    return bytes(buf.tobytes())
