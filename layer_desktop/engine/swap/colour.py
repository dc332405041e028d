"""Colour transfer: match the swapped face's colour statistics to the target's skin (Reinhard, in Lab)."""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from layer_desktop.engine.faces.types import ImageRGB

MIN_PIXELS = 64
MAX_GAIN = 2.0  # limit on the std ratio per channel, so a tiny or flat region cannot blow colours out


def transfer_lab(image: ImageRGB, reference: ImageRGB, region: NDArray[np.bool_]) -> ImageRGB:
    """``image`` with its Lab mean and std inside ``region`` moved to ``reference``'s there."""
    if int(region.sum()) < MIN_PIXELS:
        return image
    src = cv2.cvtColor(image, cv2.COLOR_RGB2LAB).astype(np.float32)
    ref = cv2.cvtColor(reference, cv2.COLOR_RGB2LAB).astype(np.float32)
    s, r = src[region], ref[region]
    s_mean, s_std = s.mean(axis=0), s.std(axis=0) + 1e-3
    r_mean, r_std = r.mean(axis=0), r.std(axis=0) + 1e-3
    gain = np.clip(r_std / s_std, 1.0 / MAX_GAIN, MAX_GAIN)
    out = (src - s_mean) * gain + r_mean
    lab = np.clip(out, 0, 255).astype(np.uint8)
    return np.asarray(cv2.cvtColor(lab, cv2.COLOR_LAB2RGB), dtype=np.uint8)


def _detail(grey: NDArray[np.float32], region: NDArray[np.bool_]) -> float:
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3)
    return float(np.hypot(gx, gy)[region].mean())


def match_detail(
    image: ImageRGB, reference: ImageRGB, region: NDArray[np.bool_], sigma: float = 1.6
) -> ImageRGB:
    """Soften ``image`` toward ``reference``'s level of detail inside ``region``.

    A sharp photo pasted into soft video looks stuck on, and its fine edges (glasses, wrinkles) shimmer
    as the face moves. The mix between the image and a blurred copy is chosen so the gradient energy
    matches the reference's; it changes continuously with the energies, so it cannot flicker.
    """
    if int(region.sum()) < MIN_PIXELS:
        return image
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    blurred = cv2.GaussianBlur(image, (0, 0), sigma)
    e_img = _detail(grey, region)
    e_ref = _detail(cv2.cvtColor(reference, cv2.COLOR_RGB2GRAY).astype(np.float32), region)
    e_blur = _detail(cv2.cvtColor(blurred, cv2.COLOR_RGB2GRAY).astype(np.float32), region)
    if e_img <= e_ref or e_img - e_blur < 1e-3:
        return image
    w = min(1.0, (e_img - e_ref) / (e_img - e_blur))
    mixed = image.astype(np.float32) * (1.0 - w) + blurred.astype(np.float32) * w
    return np.clip(mixed + 0.5, 0, 255).astype(np.uint8)
