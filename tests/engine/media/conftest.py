"""Fixtures for the media tests: generated self-identifying clips."""

from __future__ import annotations

from pathlib import Path

import pytest

from layer_desktop.engine.media.patterns import write_pattern_clip

# Frame intervals (1/90000 s) of a phone-like variable frame rate.
VFR_INTERVALS = [3000, 3000, 3060, 4500, 1530, 1530, 5940, 2970, 9000, 2970, 1800, 4230]


@pytest.fixture(scope="session")
def pattern_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """300 frames, B-frames (pyramid), one 250-frame GOP then a second: every frame shows its index."""
    path = tmp_path_factory.mktemp("clips") / "pattern_cfr.mp4"
    return write_pattern_clip(path, 300, gop=250, bframes=3)


@pytest.fixture(scope="session")
def pattern_vfr_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """VFR pattern clip whose first frame starts at 0.1 s (a start offset), 100-frame GOP."""
    path = tmp_path_factory.mktemp("clips") / "pattern_vfr.mp4"
    return write_pattern_clip(path, 240, gop=100, intervals=VFR_INTERVALS, start_pts=9000)
