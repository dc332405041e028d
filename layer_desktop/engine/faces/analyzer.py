"""``FaceAnalyzer``: a detector plus an optional landmarker, the one entry point for stills."""

from __future__ import annotations

import logging
from typing import Literal

from layer_desktop.engine.faces.blazeface import BlazeFaceConfig, BlazeFaceDetector, BlazeFaceRange
from layer_desktop.engine.faces.mesh import FaceMeshLandmarker
from layer_desktop.engine.faces.tiled import TiledDetector
from layer_desktop.engine.faces.types import Detector, Face, ImageRGB, Landmarker, sort_by_area
from layer_desktop.errors import MultipleFacesError, NoFaceError

log = logging.getLogger(__name__)


class FaceAnalyzer:
    """Detects faces and fits landmarks to each; faces the landmarker rejects are dropped.

    Not thread-safe (the backends hold interpreters/sessions): use one analyzer per worker thread.
    """

    def __init__(self, detector: Detector, landmarker: Landmarker | None = None) -> None:
        self.detector = detector
        self.landmarker = landmarker

    @classmethod
    def default(
        cls, *, detector_range: BlazeFaceRange | Literal["auto"] = "short", num_threads: int = 1
    ) -> FaceAnalyzer:
        """The offline analyzer: BlazeFace (shipped ``.tflite``) + Face Mesh 468, run by LiteRT.

        Short range suits portraits and talking heads (faces over ~10% of the frame); ``"full"`` finds
        smaller, farther faces; ``"auto"`` runs both and full range on tiles (``TiledDetector``: faces
        from ~24 px up; every tile on every call, as a still needs). Raises ``ModelNotFoundError`` if
        the shipped models are missing.
        """
        detector: Detector
        if detector_range == "auto":
            detector = TiledDetector(tiles_per_call=10**6, num_threads=num_threads)
        else:
            detector = BlazeFaceDetector(BlazeFaceConfig(range=detector_range), num_threads=num_threads)
        return cls(detector, FaceMeshLandmarker(num_threads=num_threads))

    @property
    def name(self) -> str:
        """Backend names, as shown in the UI (e.g. ``blazeface-short+facemesh-468``)."""
        return self.detector.name + (f"+{self.landmarker.name}" if self.landmarker else "")

    def detect(self, rgb: ImageRGB) -> list[Face]:
        """Faces in an RGB uint8 frame, largest first, with landmarks when a landmarker is set."""
        faces = self.detector.detect(rgb)
        if self.landmarker is not None:
            fitted = [self.landmarker.fit(rgb, f) for f in faces]
            dropped = sum(1 for f in fitted if f is None)
            if dropped:
                log.debug("%d detection(s) dropped: the landmarker found no face there", dropped)
            faces = [f for f in fitted if f is not None]
        return sort_by_area(faces)

    def fit(self, rgb: ImageRGB, face: Face) -> Face | None:
        """Re-fit landmarks to ``face`` (e.g. from the previous frame); the face itself without one."""
        return self.landmarker.fit(rgb, face) if self.landmarker is not None else face

    def detect_one(self, rgb: ImageRGB, *, name: str = "the picture", index: int | None = None) -> Face:
        """The single face of a picture (or face ``index`` when several are present).

        Raises ``NoFaceError`` when none is found, ``MultipleFacesError`` when several are found and
        no ``index`` is given, and ``IndexError``-like ``MultipleFacesError`` for an index out of range.
        """
        faces = self.detect(rgb)
        if not faces:
            raise NoFaceError(f"No face was found in {name}.", path=name if name != "the picture" else None)
        if index is None:
            if len(faces) > 1:
                raise MultipleFacesError(f"{len(faces)} faces were found in {name}; choose one.")
            return faces[0]
        if not 0 <= index < len(faces):
            raise MultipleFacesError(f"{name} has {len(faces)} face(s); there is no face number {index}.")
        return faces[index]
