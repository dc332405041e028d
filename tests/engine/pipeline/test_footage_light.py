"""Swap quality on the generated real footage's close-up (tests/footage.py, shot 1: warm side light, a
microphone rising over the mouth): the persona's face under the original's light, the microphone in
front of it, and no more flicker than the source. Each check compares the swapped render with a render
of the same clip with the swap turned off (same encoder), so re-encoding is not counted as change."""

from __future__ import annotations

import sys
from pathlib import Path

import av
import numpy as np
import pytest

from layer_desktop.engine.pipeline import Job
from layer_desktop.engine.pipeline.metrics import MaskAt, flicker, job_masks
from layer_desktop.engine.swap.lighting import low_luminance
from tests.clips import decode
from tests.footage import Footage

from .conftest import Studio

CLOSE_UP = range(60, 140)  # shot 1 of the footage
CloseUp = tuple[Job, list[np.ndarray], list[np.ndarray], list[MaskAt]]


def _close_up_clip(footage: Footage, path: Path) -> Path:
    """Shot 1 of the 720p footage as its own clip (80 frames), re-encoded near-losslessly."""
    with av.open(str(footage.path)) as inp, av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=25, options={"crf": "14", "preset": "veryfast"})
        stream.width, stream.height, stream.pix_fmt = footage.size[0], footage.size[1], "yuv420p"
        for i, frame in enumerate(inp.decode(video=0)):
            if i in CLOSE_UP:
                out.mux(
                    stream.encode(
                        av.VideoFrame.from_ndarray(frame.to_ndarray(format="rgb24"), format="rgb24")
                    )
                )
        out.mux(stream.encode(None))
    return path


@pytest.fixture(scope="module")
def close_up(studio: Studio, real_footage: Footage) -> CloseUp:
    clip = _close_up_clip(real_footage, studio.home / "close_up.mp4")
    common = {"disclosure": {"visible_mark": False}}
    job = studio.run(studio.spec(clip, studio.home / "close_up_swap.mp4", **common))
    everything = [{"start": 0, "stop": 10**6, "enabled": False}]
    off = studio.run(studio.spec(clip, studio.home / "close_up_off.mp4", segments=everything, **common))
    out, ref = decode(job.spec.output), decode(off.spec.output)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LAYER_HOME", str(studio.home))
        masks = job_masks(job, out[0].shape[1], out[0].shape[0])
    return job, out, ref, masks


def _mic_frames(footage: Footage) -> set[int]:
    return {t.index for t in footage.frames if t.occluder}


def _report(capsys: pytest.CaptureFixture[str], text: str) -> None:
    with capsys.disabled():
        sys.stdout.write(f"\n{text}\n")


@pytest.mark.slow
def test_the_side_light_falls_on_the_persona_as_on_the_original(
    close_up: CloseUp, real_footage: Footage,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    _, out, ref, masks = close_up
    errors, changed = [], []
    for i, (a, b, m) in enumerate(zip(out, ref, masks, strict=True)):
        if m is None or (i + CLOSE_UP.start) in _mic_frames(real_footage):
            continue
        rect, mask = m
        box = real_footage.face(i + CLOSE_UP.start, "main")
        assert box is not None
        sigma = (box[2] - box[0]) / 8.0
        inside = mask > 0.5
        la, lb = low_luminance(a[rect.slices()], sigma), low_luminance(b[rect.slices()], sigma)
        errors.append(float(np.abs(la - lb)[inside].mean()))
        changed.append(
            float(np.abs(a[rect.slices()].astype(int) - b[rect.slices()].astype(int))[inside].mean())
        )
    _report(capsys, f"side-lit close-up: low-frequency luminance error {np.mean(errors):.2f} levels mean "
                    f"(worst frame {np.max(errors):.2f}) over {len(errors)} frames")  # fmt: skip
    assert len(errors) >= 40
    assert np.mean(errors) <= 4.0
    assert np.mean(changed) > 4.0  # and the face really is another one


@pytest.mark.slow
def test_the_microphone_stays_in_front_of_the_swap(
    close_up: CloseUp, real_footage: Footage,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    job, out, ref, _ = close_up
    applied = {r.frame for r in job.records if r.applied}
    worst, n = 0.0, 0
    for index in _mic_frames(real_footage):
        occ = real_footage.occluder_mask(index)
        i = index - CLOSE_UP.start
        if occ is None or i not in applied:
            continue
        diff = np.abs(out[i].astype(int) - ref[i].astype(int)).mean(axis=2)
        worst = max(worst, float(diff[occ].mean()))
        n += 1
    _report(
        capsys, f"microphone pixels vs the no-swap render: worst frame {worst:.2f} levels mean ({n} frames)"
    )
    assert n >= 20
    assert worst <= 3.0


@pytest.mark.slow
def test_flicker_inside_the_face_stays_within_1_3x_of_the_source(
    close_up: CloseUp,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, out, ref, masks = close_up
    f_ref, f_out = flicker(ref, masks), flicker(out, masks)
    _report(capsys, f"close-up flicker: source {f_ref:.2f}, output {f_out:.2f}, ratio {f_out / f_ref:.2f}")
    assert f_out <= 1.3 * f_ref
