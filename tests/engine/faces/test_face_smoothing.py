"""One Euro filter: jitter removed at rest, little lag when moving fast."""

from __future__ import annotations

import numpy as np

from layer_desktop.engine.faces import OneEuroFilter, OneEuroParams


def test_jitter_at_rest_is_removed() -> None:
    rng = np.random.default_rng(1)
    f = OneEuroFilter()
    raw = 100.0 + rng.normal(0, 1.0, size=(120, 5, 2))  # 1 px jitter on a still 100 px face
    out = np.array([f(r, t=i / 30, scale=100.0) for i, r in enumerate(raw)])
    assert out[30:].std() < raw[30:].std() / 3


def test_fast_motion_is_followed_with_little_lag() -> None:
    f = OneEuroFilter()
    slow = OneEuroFilter(OneEuroParams(beta=0.0))  # plain low-pass at the same resting cut-off
    t = np.arange(60) / 30
    x = 300.0 * t  # 10 px per frame on a 100 px face
    fast = [float(f(np.array([v]), t=ti, scale=100.0)[0]) for v, ti in zip(x, t, strict=True)]
    lagging = [float(slow(np.array([v]), t=ti, scale=100.0)[0]) for v, ti in zip(x, t, strict=True)]
    assert abs(fast[-1] - x[-1]) < 5.0  # within half a frame's motion
    assert abs(lagging[-1] - x[-1]) > 100.0


def test_reset_and_shape_change_pass_the_value_through() -> None:
    f = OneEuroFilter()
    f(np.zeros(3), t=0.0)
    assert np.allclose(f(np.ones(3) * 50, t=1 / 30), f(np.ones(3) * 50, t=1 / 30 + 1e-9), atol=50)
    f.reset()
    assert np.allclose(f(np.ones(4) * 7, t=5.0), 7)
