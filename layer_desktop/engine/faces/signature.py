"""An offline appearance signature: who a face is, well enough to find the same person after a cut.

No model needed: the colours of the face (hue-saturation histogram of its middle), the colours of
what is worn under it (the same for a box below the chin), and the face's proportions from the Face
Mesh (distances between eyes, nose, mouth, chin and brows over the eye distance; mirror-invariant).
It tells the main subject from bystanders and a reference photo's person from others in a clip; it is
not a face recogniser (ArcFace is, when its model is present).
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from layer_desktop.engine.faces.types import Face, FloatArray, ImageRGB

HIST_BINS = (12, 4)
HIST_SIZE = HIST_BINS[0] * HIST_BINS[1]
# (a, b) mesh point pairs whose distance, over the eye distance, describes the face's proportions
_PAIRS = (
    (234, 454), (10, 152), (1, 0), (61, 291), (0, 17), (17, 152),
    (33, 133), (263, 362), (105, 159), (334, 386), (1, 152), (6, 1),
)  # fmt: skip
GEOMETRY_SIZE = len(_PAIRS)
GEOMETRY_WEIGHT = 0.6
SIZE = 2 * HIST_SIZE + 1 + GEOMETRY_SIZE  # face hist, clothing hist, clothing-seen flag, geometry


def _hist(rgb: ImageRGB, box: tuple[int, int, int, int]) -> NDArray[np.float32] | None:
    x0, y0, x1, y1 = box
    h, w = rgb.shape[:2]
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    hsv = cv2.cvtColor(np.ascontiguousarray(rgb[y0:y1, x0:x1]), cv2.COLOR_RGB2HSV)
    hist = cv2.calcHist([hsv], [0, 1], None, list(HIST_BINS), [0, 180, 0, 256]).reshape(-1)
    return (hist / max(float(hist.sum()), 1.0)).astype(np.float32)


def _geometry(landmarks: FloatArray | None) -> NDArray[np.float32]:
    if landmarks is None or len(landmarks) < 468:
        return np.zeros(GEOMETRY_SIZE, np.float32)
    pts = landmarks[:, :2].astype(np.float64)
    eyes = max(float(np.linalg.norm(pts[[33, 133]].mean(0) - pts[[263, 362]].mean(0))), 1.0)
    return np.array([np.linalg.norm(pts[a] - pts[b]) / eyes for a, b in _PAIRS], np.float32)


def face_signature(rgb: ImageRGB, face: Face) -> NDArray[np.float32]:
    """The signature (``SIZE`` floats) of ``face`` in the RGB frame ``rgb``."""
    x0, y0, x1, y1 = face.bbox
    w, h = x1 - x0, y1 - y0
    cx = (x0 + x1) / 2
    middle = (int(x0 + 0.2 * w), int(y0 + 0.2 * h), int(x1 - 0.2 * w), int(y1 - 0.15 * h))
    below = (int(cx - 0.8 * w), int(y1 + 0.35 * h), int(cx + 0.8 * w), int(y1 + 1.2 * h))
    face_hist = _hist(rgb, middle)
    # clothing counts only when most of its box is in the frame (a close-up may cut it off)
    seen = max(0, min(below[3], rgb.shape[0]) - below[1]) >= 0.5 * (below[3] - below[1])
    cloth_hist = _hist(rgb, below) if seen else None
    return np.concatenate(
        [
            face_hist if face_hist is not None else np.zeros(HIST_SIZE, np.float32),
            cloth_hist if cloth_hist is not None else np.zeros(HIST_SIZE, np.float32),
            np.array([1.0 if cloth_hist is not None else 0.0], np.float32),
            _geometry(face.landmarks),
        ]
    )


def mean_signature(signatures: list[NDArray[np.float32]]) -> NDArray[np.float32]:
    """The signature of a track: histograms averaged over frames, the clothing over the frames that saw
    it, the geometry by median."""
    arr = np.array(signatures, np.float32).reshape(-1, SIZE)
    out = np.zeros(SIZE, np.float32)
    out[:HIST_SIZE] = arr[:, :HIST_SIZE].mean(0)
    seen = arr[:, 2 * HIST_SIZE] > 0
    if seen.any():
        out[HIST_SIZE : 2 * HIST_SIZE] = arr[seen, HIST_SIZE : 2 * HIST_SIZE].mean(0)
        out[2 * HIST_SIZE] = 1.0
    geo = arr[:, 2 * HIST_SIZE + 1 :]
    has_geo = geo.any(axis=1)
    if has_geo.any():
        out[2 * HIST_SIZE + 1 :] = np.median(geo[has_geo], axis=0)
    return out


def _overlap(p: NDArray[np.float32], q: NDArray[np.float32]) -> float:
    """Bhattacharyya coefficient of two normalised histograms (1 = identical)."""
    return float(np.sqrt(np.clip(p, 0, None) * np.clip(q, 0, None)).sum())


def geometry_weight(face_width: float) -> float:
    """How much the proportions may count for a face this wide (px): a 20 px face's mesh is too coarse."""
    return GEOMETRY_WEIGHT * float(np.clip((face_width - 16.0) / 32.0, 0.0, 1.0))


def similarity(a: NDArray[np.float32], b: NDArray[np.float32], geometry: float = 0.6) -> float:
    """0 (different people) .. 1 (same appearance). The proportions weigh most (``geometry``; less for
    small faces, see ``geometry_weight``): stage light changes a face's colours more than it changes
    who it is (same person 0.01–0.03 apart on the test footage, different people 0.08+); clothing
    counts when both saw it."""
    parts = [(0.1, _overlap(a[:HIST_SIZE], b[:HIST_SIZE]))]
    if a[2 * HIST_SIZE] > 0 and b[2 * HIST_SIZE] > 0:
        parts.append((0.3, _overlap(a[HIST_SIZE : 2 * HIST_SIZE], b[HIST_SIZE : 2 * HIST_SIZE])))
    ga, gb = a[2 * HIST_SIZE + 1 :], b[2 * HIST_SIZE + 1 :]
    if ga.any() and gb.any():
        distance = float(np.abs(ga - gb).mean() / max(float(np.abs(ga).mean()), 1e-6))
        parts.append((geometry, float(np.exp(-distance / 0.03))))
    return sum(w * v for w, v in parts) / sum(w for w, _ in parts)
