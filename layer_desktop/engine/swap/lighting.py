"""Relighting a swapped face: the target's light and colour, the persona's structure and detail.

A face image is roughly shading x albedo. The target frame's low spatial frequencies carry its light (a
side light, a coloured stage light, a shadow across a cheek); the persona photo's middle and high
frequencies carry the features that make the persona recognisable. So, in Lab:

    L   = low(target L) + (persona L - low(persona L)) * clip(low(target L) / low(persona L))
    a,b = low(target ab) + (persona ab - low(persona ab)) + tone * (mean persona ab - mean target ab)

``low`` is a Gaussian of ``sigma`` pixels taken by normalised convolution over a weight map (the face's
visible skin), so what lies outside it (background, hair, a microphone in front of the mouth) never
bleeds into the face's shading: that bleed is what drew dark smudges and white streaks along the edges.
The gain on the persona's detail follows the target's shading, so wrinkles fade into a shadow as they
would under that light instead of staying as dark marks. The persona's skin tone is moved over by
``tone`` of the difference of the means (the rest is the target's light colour).
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from layer_desktop.engine.faces.types import ImageRGB

FloatImage = NDArray[np.float32]
MIN_WEIGHT = 1e-3  # below this much support the normalised blur has no estimate: use the region's mean
DETAIL_GAIN = (0.55, 1.6)  # shading ratio limits, so a black or blown-out patch cannot explode detail
MIN_PIXELS = 64
# colour in the persona's fine detail is mostly make-up, blotches and chromatic noise: half of it is kept,
# so wrinkles carry the skin's colour instead of a red-brown line
CHROMA_DETAIL = 0.5
CONTRAST_ALLOWANCE = 1.15  # the persona's detail may be this much stronger than the video's own
MIN_CONTRAST = 0.5
FIT_SIGMA = 1.6  # px: the blur that the persona's detail is mixed with to match the video's detail


def masked_blur(image: FloatImage, weight: FloatImage, sigma: float) -> FloatImage:
    """Normalised convolution: the Gaussian (``sigma`` pixels) mean of ``image`` over ``weight``.

    Computed on a reduced copy (the result is smooth at that scale), so its cost does not grow with
    sigma. Where the weight has no support nearby, the weighted mean of the whole image is used.
    """
    h, w = weight.shape
    f = max(1.0, sigma / 3.0)
    small = (max(1, round(w / f)), max(1, round(h / f)))
    wt = np.asarray(cv2.resize(weight, small, interpolation=cv2.INTER_AREA), np.float32)
    img = np.asarray(cv2.resize(image * weight[..., None], small, interpolation=cv2.INTER_AREA), np.float32)
    img = img.reshape(small[1], small[0], -1)
    s = sigma * small[0] / w
    num = cv2.GaussianBlur(img, (0, 0), s, borderType=cv2.BORDER_REPLICATE).reshape(img.shape)
    den = cv2.GaussianBlur(wt, (0, 0), s, borderType=cv2.BORDER_REPLICATE)
    total = float(weight.sum())
    fallback = (image * weight[..., None]).reshape(-1, image.shape[2]).sum(axis=0) / max(total, 1e-6)
    low = np.where(den[..., None] > MIN_WEIGHT, num / np.maximum(den, MIN_WEIGHT)[..., None], fallback)
    big = cv2.resize(low.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    return np.asarray(big, np.float32).reshape(h, w, -1)


def to_lab(rgb: ImageRGB) -> FloatImage:
    """Float Lab (L 0-100, a/b about -128..127) of an 8-bit RGB image."""
    return np.asarray(cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB), np.float32)


def from_lab(lab: FloatImage) -> ImageRGB:
    rgb = cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)
    return np.asarray(np.clip(rgb * 255.0 + 0.5, 0, 255), np.uint8)


def relight(
    persona: ImageRGB,
    target: ImageRGB,
    persona_weight: FloatImage,
    target_weight: FloatImage,
    sigma: float,
    tone: float = 0.3,
    fit_detail: bool = True,
    detail_weight: FloatImage | None = None,
) -> ImageRGB:
    """``persona`` (warped onto the target, same size as ``target``) under the target's light.

    ``persona_weight`` / ``target_weight`` say which pixels describe each face's skin (0..1); ``sigma``
    is the split between light and structure in pixels; ``fit_detail`` brings the persona's detail down
    to the video's own contrast and level of detail (gradient energy); ``detail_weight`` (0..1 per
    pixel) scales the persona's detail, so it can fade out before the blend's edge. Returns the relit
    crop (uint8 RGB).
    """
    if float(target_weight.sum()) < MIN_PIXELS or float(persona_weight.sum()) < MIN_PIXELS:
        return persona
    p, t = to_lab(persona), to_lab(target)
    low_p = masked_blur(p, persona_weight, sigma)
    low_t = masked_blur(t, target_weight, sigma)
    detail = p - low_p
    gain = np.clip(low_t[..., 0] / np.maximum(low_p[..., 0], 1.0), *DETAIL_GAIN)
    luma = np.asarray(detail[..., 0] * gain, np.float32)
    if fit_detail:
        gain *= _contrast_match(detail[..., 0], (t - low_t)[..., 0], target_weight)
        luma = fit_to_video(np.asarray(detail[..., 0] * gain, np.float32), t[..., 0], target_weight)
    if detail_weight is not None:
        luma = luma * detail_weight
        gain = gain * detail_weight
    out = np.empty_like(p)
    out[..., 0] = low_t[..., 0] + luma
    mean_p = _weighted_mean(p[..., 1:], persona_weight)
    mean_t = _weighted_mean(t[..., 1:], target_weight)
    chroma_gain = (gain * CHROMA_DETAIL)[..., None]
    out[..., 1:] = low_t[..., 1:] + detail[..., 1:] * chroma_gain + tone * (mean_p - mean_t)
    return from_lab(out)


def _energy(image: FloatImage, sel: NDArray[np.bool_]) -> float:
    gx = cv2.Sobel(image, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(image, cv2.CV_32F, 0, 1, ksize=3)
    return float(np.hypot(gx, gy)[sel].mean())


def fit_to_video(detail: FloatImage, target: FloatImage, weight: FloatImage) -> FloatImage:
    """The persona's luminance detail softened until its gradient energy is the target face's.

    A face moving in the frame changes each pixel by about gradient x motion, so a face with more fine
    texture than the video it sits in flickers (and shimmers under the codec) more than the source did.
    The detail is mixed with a blurred copy (fine texture goes first, features stay), and only when the
    blurred copy is still too strong is its amplitude reduced; both weights follow the energies
    continuously, so they cannot jump from frame to frame.
    """
    sel = weight > 0.5
    if int(sel.sum()) < MIN_PIXELS:
        return detail
    e_ref = _energy(target, sel)
    e_img = _energy(detail, sel)
    if e_img <= e_ref:
        return detail
    soft = np.asarray(cv2.GaussianBlur(detail, (0, 0), FIT_SIGMA), np.float32)
    e_soft = _energy(soft, sel)
    if e_soft >= e_ref:
        return np.asarray(soft * (e_ref / max(e_soft, 1e-6)), np.float32)
    w = (e_img - e_ref) / max(e_img - e_soft, 1e-6)
    return np.asarray(detail * (1.0 - w) + soft * w, np.float32)


def _contrast_match(persona: FloatImage, target: FloatImage, weight: FloatImage) -> float:
    """A factor (<= 1) that brings the persona's detail contrast down to at most the target's.

    A sharp photo's wrinkles and pores, pasted at full contrast into softer, noisier video, read as dark
    dirt; the video's own detail contrast on the same face says how much texture it can show.
    """
    sel = weight > 0.5
    if int(sel.sum()) < MIN_PIXELS:
        return 1.0
    sp, st = float(np.std(persona[sel])), float(np.std(target[sel]))
    return float(np.clip(CONTRAST_ALLOWANCE * st / max(sp, 1e-3), MIN_CONTRAST, 1.0))


def _weighted_mean(values: FloatImage, weight: FloatImage) -> NDArray[np.float32]:
    w = weight[..., None]
    return np.asarray((values * w).sum(axis=(0, 1)) / max(float(weight.sum()), 1e-6), np.float32)


def low_luminance(rgb: ImageRGB, sigma: float) -> FloatImage:
    """The grey level (0-255) of ``rgb`` low-passed with a Gaussian of ``sigma`` pixels: the light a
    face is under, as the lighting check compares it."""
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    return np.asarray(cv2.GaussianBlur(grey, (0, 0), sigma, borderType=cv2.BORDER_REPLICATE), np.float32)
