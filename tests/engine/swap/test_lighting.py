"""Lighting: the persona's face under the target's light (low frequencies from the target, detail from
the persona), on a side-lit, warm-lit close-up made from the kit's astronaut photo."""

from __future__ import annotations

import sys

import cv2
import numpy as np
import pytest

from layer_desktop.engine.faces import FaceAnalyzer, head_pose
from layer_desktop.engine.faces.types import Face
from layer_desktop.engine.swap import LandmarkSwapper, PersonaFace, SwapOptions
from layer_desktop.engine.swap.lighting import fit_to_video, low_luminance, masked_blur, relight


def _swap(persona: list[PersonaFace], rgb: np.ndarray, face: Face, **options: object) -> tuple:
    out = rgb.copy()
    result = LandmarkSwapper(persona, SwapOptions.model_validate(options)).swap(out, face)
    full = np.zeros(rgb.shape[:2], np.float32)
    full[result.rect.slices()] = result.mask
    return out, full


def _light_error(src: np.ndarray, out: np.ndarray, mask: np.ndarray, face: Face) -> float:
    """Mean |difference| of the low-frequency luminance (sigma = 1/8 of the face width) inside the mask."""
    sigma = face.width / 8.0
    return float(np.abs(low_luminance(src, sigma) - low_luminance(out, sigma))[mask > 0.5].mean())


def test_side_light_falls_on_the_persona_as_on_the_original(
    side_lit: tuple[np.ndarray, Face], grace: list[PersonaFace], capsys: pytest.CaptureFixture[str],
    record_property: pytest.RecordProperty,
) -> None:  # fmt: skip
    src, face = side_lit
    out, mask = _swap(grace, src, face)
    error = _light_error(src, out, mask, face)
    old, old_mask = _swap(grace, src, face, relight=False)  # the Lab mean/std match it replaces
    old_error = _light_error(src, old, old_mask, face)
    with capsys.disabled():
        sys.stdout.write(f"\nlow-frequency luminance error in the mask: {error:.2f} levels "
                         f"(Reinhard colour match: {old_error:.2f})\n")  # fmt: skip
    record_property("light_error", f"{error:.2f} (reinhard {old_error:.2f})")
    assert error <= 4.0
    assert old_error > 5.0  # the check sees a flat-lit paste
    # and the face really is the persona's: the detail inside the mask changed
    inside = mask > 0.9
    detail = np.abs(out.astype(int) - src.astype(int)).mean(axis=2)
    assert detail[inside].mean() > 4.0
    # the dark side stays dark, the lit side lit: compare the two cheeks' mean level
    x = np.arange(src.shape[1])[None, :].repeat(src.shape[0], 0)
    dark = inside & (x < face.center[0] - 0.2 * face.width)
    lit = inside & (x > face.center[0] + 0.2 * face.width)

    def contrast(img: np.ndarray) -> float:
        grey = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(float)
        return float(grey[lit].mean() / grey[dark].mean())

    assert contrast(out) == pytest.approx(contrast(src), rel=0.08)
    assert abs(contrast(old) / contrast(src) - 1.0) > 0.1


def test_a_coloured_light_colours_the_persona(
    close_up: np.ndarray, analyzer: FaceAnalyzer, grace: list[PersonaFace]
) -> None:
    blue = np.clip(close_up.astype(np.float32) * np.array([0.7, 0.85, 1.25]), 0, 255).astype(np.uint8)
    face = analyzer.detect_one(blue)
    out, mask = _swap(grace, blue, face, skin_tone=0.0)
    inside = mask > 0.9
    lab_out = cv2.cvtColor(out, cv2.COLOR_RGB2LAB).astype(float)[inside].mean(axis=0)
    lab_src = cv2.cvtColor(blue, cv2.COLOR_RGB2LAB).astype(float)[inside].mean(axis=0)
    assert np.abs(lab_out[1:] - lab_src[1:]).max() < 3.0  # the stage light's colour, not the photo's


def test_masked_blur_never_takes_light_from_outside_the_weight() -> None:
    """A dark microphone beside bright skin must not darken the skin's estimated light."""
    img = np.full((80, 80, 1), 200.0, np.float32)
    img[:, 50:] = 10.0
    weight = np.zeros((80, 80), np.float32)
    weight[:, :50] = 1.0
    low = masked_blur(img, weight, 12.0)
    assert np.abs(low[:, :50, 0] - 200.0).max() < 0.5
    plain = cv2.GaussianBlur(img[..., 0], (0, 0), 12.0)
    assert plain[:, 45].mean() < 180.0  # what an ordinary blur would have done next to it


def test_persona_detail_is_softened_to_the_videos_level() -> None:
    rng = np.random.default_rng(3)
    sharp = rng.normal(0, 12, (96, 96)).astype(np.float32)  # a crisp photo's pores
    video = cv2.GaussianBlur(rng.normal(0, 12, (96, 96)).astype(np.float32), (0, 0), 1.5)
    weight = np.ones((96, 96), np.float32)

    def energy(a: np.ndarray) -> float:
        return float(np.hypot(cv2.Sobel(a, cv2.CV_32F, 1, 0), cv2.Sobel(a, cv2.CV_32F, 0, 1)).mean())

    fitted = fit_to_video(sharp, video, weight)
    assert energy(sharp) > 2.0 * energy(video)
    assert energy(fitted) == pytest.approx(energy(video), rel=0.1)
    assert fit_to_video(video, sharp, weight) is video  # never sharpened


def test_relight_moves_only_part_of_the_skin_tone() -> None:
    persona = np.full((64, 64, 3), (200, 150, 120), np.uint8)
    target = np.full((64, 64, 3), (150, 150, 150), np.uint8)
    w = np.ones((64, 64), np.float32)
    grey = cv2.cvtColor(relight(persona, target, w, w, 8.0, tone=0.0), cv2.COLOR_RGB2LAB).astype(float)
    warm = cv2.cvtColor(relight(persona, target, w, w, 8.0, tone=0.5), cv2.COLOR_RGB2LAB).astype(float)
    p = cv2.cvtColor(persona, cv2.COLOR_RGB2LAB).astype(float)
    t = cv2.cvtColor(target, cv2.COLOR_RGB2LAB).astype(float)
    assert np.abs(grey - t).max() <= 1.5  # tone 0: the target's colour exactly
    expected = t[..., 1:] + 0.5 * (p[..., 1:] - t[..., 1:])
    assert np.abs(warm[..., 1:] - expected).max() <= 2.0


def test_changing_the_persona_photo_does_not_change_the_light(
    side_lit: tuple[np.ndarray, Face], grace: list[PersonaFace], analyzer: FaceAnalyzer
) -> None:
    """Two photos of the persona taken under different light (here: the same photo darker and cooler):
    whichever the plan picks, the face's light is the target's, so a switch between them is no jump."""
    rgb = grace[0].rgb
    other = np.clip(rgb.astype(np.float32) * np.array([0.7, 0.8, 1.0]), 0, 255).astype(np.uint8)
    other_face = analyzer.detect_one(other)
    photos = [grace[0], PersonaFace(other, other_face, 1.0, head_pose(other_face))]
    src, face = side_lit
    sigma = face.width / 8.0

    def jump(**options: object) -> float:
        swapper = LandmarkSwapper(photos, SwapOptions.model_validate(options))
        a, b = src.copy(), src.copy()
        result = swapper.swap(a, face, reference=0)
        swapper.swap(b, face, reference=1)
        inside = np.zeros(src.shape[:2], bool)
        inside[result.rect.slices()] = result.mask > 0.5
        return float(np.abs(low_luminance(a, sigma) - low_luminance(b, sigma))[inside].mean())

    assert jump() < 1.5
    assert jump(relight=False) > 2.0 * jump()
