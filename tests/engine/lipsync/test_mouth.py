"""The painted teeth: darker towards the mouth's corners, faint gaps between teeth at anatomical
spacing, and a thin sliver in a nearly closed mouth left bright (shaded, it reads as an open gap)."""

from __future__ import annotations

import numpy as np

from layer_desktop.engine.lipsync.mouth import UPPER_GAPS, _Axes, _tooth_shade


def level_face_axes() -> _Axes:
    """Axes of a face looking straight at the camera: eye line along x, chin down."""
    lm = np.zeros((468, 2))
    lm[33], lm[133], lm[362], lm[263] = (40, 40), (60, 40), (100, 40), (120, 40)  # eye centres 50 and 110
    lm[1], lm[152] = (80, 70), (80, 140)
    lm[13], lm[14], lm[61], lm[291] = (80, 100), (80, 104), (55, 102), (105, 102)
    return _Axes(lm)


def test_teeth_darken_towards_the_corners_with_gaps_between_them() -> None:
    ax, iod = level_face_axes(), 60.0
    edge = np.stack([np.linspace(56, 104, 13), np.full(13, 100.0)], axis=1)  # the upper lip line
    shade = _tooth_shade((140, 160), edge, ax, iod, depth=5.0, gaps=UPPER_GAPS)
    row = shade[103]  # inside the band, below the lip's shadow
    centre_gap, first_tooth = 80, round(80 + UPPER_GAPS[1] * iod / 2)
    assert row[first_tooth] > row[centre_gap] + 0.05  # a visible gap between the two front teeth
    assert row[first_tooth] > row[103] + 0.1 >= 0.6  # a tooth near the corner is darker, not black
    assert shade.min() >= 0.5 and shade.max() <= 1.0


def test_a_sliver_of_teeth_stays_bright() -> None:
    ax, iod = level_face_axes(), 60.0
    edge = np.stack([np.linspace(56, 104, 13), np.full(13, 100.0)], axis=1)
    sliver = _tooth_shade((140, 160), edge, ax, iod, depth=0.5, gaps=UPPER_GAPS)
    full = _tooth_shade((140, 160), edge, ax, iod, depth=5.0, gaps=UPPER_GAPS)
    assert sliver[101, 56:105].min() > 0.95 > full[101, 56:105].min()
