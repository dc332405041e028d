"""What the viewer composes from a source frame and its processed version (numpy, any thread): the
processed frame matched to the source's size, the amplified difference, side by side and the wipe."""

from __future__ import annotations

import cv2
import numpy as np

DIFF_GAIN = 4


def matched(processed: np.ndarray, source: np.ndarray) -> np.ndarray:
    """``processed`` resized to the source's size when a render's size differs (for comparing)."""
    if processed.shape[:2] == source.shape[:2]:
        return processed
    h, w = source.shape[:2]
    resized: np.ndarray = cv2.resize(processed, (w, h), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(resized)


def difference(a: np.ndarray, b: np.ndarray, gain: int = DIFF_GAIN) -> np.ndarray:
    """``|a - b| × gain``, clipped to 0..255, same size as the inputs."""
    diff = np.abs(a.astype(np.int16) - b.astype(np.int16)) * gain
    out: np.ndarray = np.clip(diff, 0, 255).astype(np.uint8)
    return out


def side_by_side(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.concatenate([a, b], axis=1))


def wipe(a: np.ndarray, b: np.ndarray, position: float) -> np.ndarray:
    """Columns left of ``position`` (0..1 of the width) from ``a``, the rest from ``b``."""
    split = round(position * a.shape[1])
    out = b.copy()
    out[:, :split] = a[:, :split]
    return out
