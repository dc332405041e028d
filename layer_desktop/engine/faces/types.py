"""The face record every backend returns, and the small interfaces backends implement."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float32]
ImageRGB = NDArray[np.uint8]
BBox = tuple[float, float, float, float]


@dataclass(frozen=True, eq=False)
class Face:
    """One face in one frame, in frame pixel coordinates.

    ``keypoints`` are the detector's points: BlazeFace 6 (right eye, left eye, nose tip, mouth centre,
    right ear, left ear — "right" is the subject's right, i.e. the image's left), SCRFD 5 (eyes, nose,
    mouth corners, image-left first). ``landmarks`` are the dense points when a landmarker ran: Face Mesh
    (468, 3) with z in pixel units, or 2d106 (106, 2). ``presence`` is the landmarker's face-presence
    probability (low means occluded or not a face).
    ``signature`` is the offline appearance signature used to find the same person after a cut.
    """

    bbox: BBox
    score: float
    keypoints: FloatArray
    landmarks: FloatArray | None = None
    track_id: int | None = None
    presence: float | None = None
    signature: FloatArray | None = None  # appearance signature (faces.signature), set by the analysis

    @property
    def width(self) -> float:
        return self.bbox[2] - self.bbox[0]

    @property
    def height(self) -> float:
        return self.bbox[3] - self.bbox[1]

    @property
    def area(self) -> float:
        return max(self.width, 0.0) * max(self.height, 0.0)

    @property
    def center(self) -> tuple[float, float]:
        return (self.bbox[0] + self.bbox[2]) / 2.0, (self.bbox[1] + self.bbox[3]) / 2.0

    def with_track_id(self, track_id: int | None) -> Face:
        """A copy of this face carrying ``track_id``."""
        return replace(self, track_id=track_id)


class Detector(Protocol):
    """Finds faces (box, score, keypoints; no dense landmarks) in an RGB frame."""

    name: str

    def detect(self, rgb: ImageRGB) -> list[Face]: ...


class Landmarker(Protocol):
    """Fits dense landmarks to a face, from its box/keypoints or from the previous frame's landmarks."""

    name: str

    def fit(self, rgb: ImageRGB, face: Face) -> Face | None:
        """The face with landmarks (and a box from them), or None when no face is present there."""
        ...


def sort_by_area(faces: list[Face]) -> list[Face]:
    """Faces sorted largest first (ties: higher score first)."""
    return sorted(faces, key=lambda f: (-f.area, -f.score))


def as_points(values: NDArray[np.floating] | list[list[float]]) -> FloatArray:
    """An (n, k) float32 array."""
    return np.ascontiguousarray(np.asarray(values, dtype=np.float32))
