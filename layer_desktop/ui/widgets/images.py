"""numpy RGB → QImage/QPixmap (GUI thread only for QPixmap)."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage, QPixmap


def to_qimage(rgb: np.ndarray) -> QImage:
    """A deep-copied QImage of an RGB uint8 array (H, W, 3)."""
    array = np.ascontiguousarray(rgb, dtype=np.uint8)
    h, w = array.shape[:2]
    return QImage(array.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def to_pixmap(rgb: np.ndarray) -> QPixmap:
    return QPixmap.fromImage(to_qimage(rgb))
