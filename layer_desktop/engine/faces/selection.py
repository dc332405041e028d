"""Choosing the target face: by track id, by a click on the frame, or by identity."""

from __future__ import annotations

import logging

import numpy as np
from numpy.typing import NDArray

from layer_desktop.engine.faces.embedders import Embedder, cosine_similarity
from layer_desktop.engine.faces.types import Face, ImageRGB

log = logging.getLogger(__name__)


def select_by_track(faces: list[Face], track_id: int) -> Face | None:
    """The face of track ``track_id``, or None when that track is not in this frame."""
    return next((f for f in faces if f.track_id == track_id), None)


def select_by_point(faces: list[Face], x: float, y: float, *, margin: float = 0.15) -> Face | None:
    """The face under a click at (x, y) frame pixels.

    A box (grown by ``margin`` of its size, so a click on the hair still counts) containing the point
    wins; among several, the one whose centre is nearest relative to its size. None if no face is hit.
    """
    best: tuple[float, Face] | None = None
    for face in faces:
        mx, my = face.width * margin, face.height * margin
        x0, y0, x1, y1 = face.bbox
        if not (x0 - mx <= x <= x1 + mx and y0 - my <= y <= y1 + my):
            continue
        cx, cy = face.center
        distance = float(np.hypot(x - cx, y - cy)) / max(face.width, face.height, 1.0)
        if best is None or distance < best[0]:
            best = (distance, face)
    return best[1] if best else None


def select_by_embedding(
    rgb: ImageRGB,
    faces: list[Face],
    embedder: Embedder,
    reference: NDArray[np.float32],
    *,
    min_similarity: float = 0.3,
) -> tuple[Face, float] | None:
    """The face most similar to ``reference`` (an embedding from the same ``embedder`` model) and
    its cosine similarity; None when no face reaches ``min_similarity``."""
    best: tuple[Face, float] | None = None
    for face in faces:
        sim = cosine_similarity(embedder.embed(rgb, face), reference)
        if sim >= min_similarity and (best is None or sim > best[1]):
            best = (face, sim)
    log.debug("identity match: %s", None if best is None else round(best[1], 3))
    return best
