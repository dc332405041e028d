"""Fixtures for the swap tests: the kit's photos analysed once, a side-lit close-up, a persona."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from layer_desktop.engine.faces import FaceAnalyzer, head_pose, load_image
from layer_desktop.engine.faces.types import Face
from layer_desktop.engine.swap import PersonaFace

# a warm light from the subject's left (the image's right): the far cheek falls to 35 % of the near one
WARM = np.array([1.08, 0.97, 0.80], np.float32)


@pytest.fixture(scope="session")
def analyzer() -> FaceAnalyzer:
    return FaceAnalyzer.default()


@pytest.fixture(scope="session")
def grace(media_dir: Path, analyzer: FaceAnalyzer) -> list[PersonaFace]:
    rgb = load_image(media_dir / "faces" / "grace_hopper.jpg")
    face = analyzer.detect_one(rgb)
    return [PersonaFace(rgb, face, 1.0, head_pose(face))]


def side_light(rgb: np.ndarray, face: Face) -> np.ndarray:
    """``rgb`` lit from the image's right: a soft ramp across the face, 0.35 → 1.0, warm-tinted."""
    x = np.arange(rgb.shape[1], dtype=np.float32)[None, :]
    ramp = 0.35 + 0.65 / (1.0 + np.exp(-(x - face.center[0]) / (0.25 * face.width)))
    lit = rgb.astype(np.float32) * ramp[..., None] * WARM
    return np.clip(lit + 0.5, 0, 255).astype(np.uint8)


@pytest.fixture(scope="session")
def close_up(media_dir: Path) -> np.ndarray:
    """The astronaut photo at 2x (a face about 185 px wide, as in a 720p medium close-up)."""
    rgb = load_image(media_dir / "faces" / "astronaut.png")
    return np.asarray(cv2.resize(rgb, None, fx=2.0, fy=2.0, interpolation=cv2.INTER_CUBIC), np.uint8)


@pytest.fixture(scope="session")
def side_lit(close_up: np.ndarray, analyzer: FaceAnalyzer) -> tuple[np.ndarray, Face]:
    """The close-up under a warm side light, and its face as the analyzer finds it there."""
    lit = side_light(close_up, analyzer.detect_one(close_up))
    return lit, analyzer.detect_one(lit)
