"""Keyframes: values interpolated per frame, carried by the segment spec, honoured by the render — a
blend keyframed 0 → 1 over 50 frames shows a growing share of the swap inside the face."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from layer_desktop.engine.pipeline import Job, TransformSpec
from layer_desktop.engine.pipeline.keyframes import Keyframe, keyframed, mix, value_at
from layer_desktop.engine.pipeline.metrics import job_masks
from layer_desktop.engine.pipeline.spec import Segment
from layer_desktop.engine.swap.options import SwapOptions
from tests.clips import decode

from .conftest import SHARED, Studio

TALK = SHARED / "clips" / "talk_astronaut_4s.mp4"
RAMP = (Keyframe(option="blend", frame=0, value=0.0), Keyframe(option="blend", frame=49, value=1.0))


def test_values_are_linear_between_keyframes_and_hold_outside() -> None:
    keys = (
        *RAMP,
        Keyframe(option="feather", frame=10, value=0.4),
        Keyframe(option="feather", frame=20, value=0.2),
    )
    assert value_at(keys, "blend", 0) == 0.0 and value_at(keys, "blend", 49) == 1.0
    assert value_at(keys, "blend", 98) == 1.0 and abs((value_at(keys, "blend", 7) or 0) - 7 / 49) < 1e-9
    assert value_at(keys, "feather", 0) == 0.4 and abs((value_at(keys, "feather", 15) or 0) - 0.3) < 1e-9
    assert value_at(keys, "enhancer_blend", 5) is None
    options, blend = keyframed(keys, SwapOptions(), 15)
    assert options.feather == 0.3 and abs(blend - 15 / 49) < 1e-9 and options.inset == SwapOptions().inset
    assert keyframed((), SwapOptions(), 3) == (SwapOptions(), 1.0)
    a, b = np.zeros((2, 2, 3), np.uint8), np.full((2, 2, 3), 200, np.uint8)
    assert mix(a, b, 0.25)[0, 0, 0] == 50 and mix(a, b, 1.0) is b


def test_keyframes_travel_in_the_spec_json() -> None:
    seg = Segment(start=0, stop=49, keyframes=RAMP)
    spec = TransformSpec(source="a.mp4", output="b.mp4", persona="P", segments=(seg,))
    again = TransformSpec.model_validate_json(spec.model_dump_json())
    assert again.segments[0].keyframes == RAMP
    assert again.keyframed_at(49)[1] == 1.0 and again.keyframed_at(60)[1] == 1.0
    with pytest.raises(ValueError):
        Keyframe(option="smoothing", frame=0, value=0.5)  # type: ignore[arg-type]


@pytest.mark.slow
def test_a_blend_ramp_grows_the_swap_inside_the_face(studio: Studio, talk_job: Job) -> None:
    spec = studio.spec(TALK, studio.home / "ramp.mp4", segments=[Segment(start=0, stop=49, keyframes=RAMP)])
    job = studio.run(spec)
    src, ramp, full = decode(TALK), decode(job.spec.output), decode(talk_job.spec.output)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LAYER_HOME", str(studio.home))
        masks = job_masks(talk_job, src[0].shape[1], src[0].shape[0])
    shares = []
    for i in range(0, 50, 5):
        mask_at = masks[i]
        assert mask_at is not None
        inside = np.zeros(src[i].shape[:2], bool)
        inside[mask_at[0].slices()] = mask_at[1] > 0.5
        ramp_diff = np.abs(ramp[i].astype(int) - src[i])[inside].mean()
        full_diff = np.abs(full[i].astype(int) - src[i])[inside].mean()
        shares.append(ramp_diff / full_diff)  # ≈ the blend: the full swap's variation divided out
    assert all(b > a for a, b in itertools.pairwise(shares)), shares  # growing, every 5 frames
    assert shares[0] < 0.15 and shares[-1] > 0.8, shares
    assert np.array_equal(ramp[70], full[70]) or np.abs(ramp[70].astype(int) - full[70]).mean() < 0.5
