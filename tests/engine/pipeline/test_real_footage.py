"""The transform on the generated real-footage clip (tests/footage.py): the right face in every shot,
bystanders untouched, nothing carried across a cut, and review ranges a person would look at.

Every check compares the swapped render with a render of the same clip with the swap turned off (same
encoder and settings), so what differs is what the swap changed, not re-encoding.
"""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np
import pytest

from layer_desktop.engine.pipeline import Job
from tests.clips import decode
from tests.engine.pipeline.conftest import Studio
from tests.footage import Footage

log = logging.getLogger(__name__)
BBox = tuple[float, float, float, float]
BYSTANDERS = ("bystander_a", "bystander_b")
UNTOUCHED = 10.0  # levels: the most an 8×8 block's mean may differ by re-encoding (a swap: 60+)


def _render(studio: Studio, source: Path, name: str, **kw: object) -> Job:
    return studio.run(
        studio.spec(source, studio.home / f"{name}.mp4", disclosure={"visible_mark": False}, **kw)
    )


def _off(studio: Studio, source: Path, name: str) -> Job:
    return _render(studio, source, name, segments=[{"start": 0, "stop": 10**6, "enabled": False}])


def _region(box: BBox, shape: tuple[int, ...], pad: float = 0.0) -> tuple[slice, slice]:
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    return (
        slice(max(0, int(y0 - pad * h)), min(shape[0], int(y1 + pad * h) + 1)),
        slice(max(0, int(x0 - pad * w)), min(shape[1], int(x1 + pad * w) + 1)),
    )


def _block_change(a: np.ndarray, b: np.ndarray, box: BBox) -> float:
    """The largest 8×8-block mean of |a - b| inside ``box``."""
    diff = np.abs(a.astype(np.int16) - b.astype(np.int16)).mean(axis=2).astype(np.float32)
    region = diff[_region(box, diff.shape)]
    if region.size == 0:
        return 0.0
    return float(cv2.blur(region, (8, 8)).max())


def _bystander_changes(footage: Footage, out: list[np.ndarray], off: list[np.ndarray], scale: float) -> list:
    worst = []
    for i, (a, b) in enumerate(zip(out, off, strict=True)):
        for role in BYSTANDERS:
            box = footage.face(i, role, scale)
            if box is not None:
                worst.append((_block_change(a, b, box), i, role))
    return sorted(worst, reverse=True)


@pytest.fixture(scope="module")
def auto_720(studio: Studio, real_footage: Footage) -> tuple[Job, list[np.ndarray], list[np.ndarray]]:
    job = _render(studio, real_footage.path, "footage_auto")
    off = _off(studio, real_footage.path, "footage_off")
    return job, decode(job.spec.output), decode(off.spec.output)


@pytest.mark.slow
def test_auto_swaps_the_main_subject_in_every_shot(
    auto_720: tuple[Job, list[np.ndarray], list[np.ndarray]], real_footage: Footage
) -> None:
    job, out, off = auto_720
    records = {r.frame: r for r in job.records}
    for shot in real_footage.shot_ranges():
        wanted = [
            i
            for i in shot
            if (box := real_footage.face(i, "main")) is not None
            and box[2] - box[0] >= 30
            and all(f.alpha == 1.0 for f in real_footage.frames[i].faces)
        ]
        if not wanted:
            continue
        boxes = {i: real_footage.face(i, "main") or (0.0, 0.0, 0.0, 0.0) for i in wanted}
        swapped = [i for i in wanted if records[i].applied and _block_change(out[i], off[i], boxes[i]) > 40]
        log.info("shot %s: main subject swapped on %d of %d frames", shot, len(swapped), len(wanted))
        assert len(swapped) >= 0.95 * len(wanted), (shot, sorted(set(wanted) - set(swapped)))


@pytest.mark.slow
def test_auto_never_touches_a_bystander(
    auto_720: tuple[Job, list[np.ndarray], list[np.ndarray]], real_footage: Footage
) -> None:
    _, out, off = auto_720
    worst = _bystander_changes(real_footage, out, off, 1.0)
    log.info("largest bystander block change: %s", worst[:3])
    assert worst[0][0] < UNTOUCHED


@pytest.mark.slow
def test_no_face_crosses_a_cut(
    auto_720: tuple[Job, list[np.ndarray], list[np.ndarray]], real_footage: Footage
) -> None:
    """On both sides of every cut (and of the dissolve's boundary) the swap changed pixels only around
    that frame's own main-subject face: no ghost of the other shot's face, no smeared mask."""
    job, out, off = auto_720
    shots = {r.frame: r.shot for r in job.records}
    boundaries = [*real_footage.cuts, real_footage.shot_ranges()[-1].start]
    assert [i for i in shots if i and shots[i] != shots[i - 1]] == [60, 140, pytest.approx(207, abs=1)]
    for cut in boundaries:
        for i in (cut - 1, cut):
            changed = np.abs(out[i].astype(np.int16) - off[i].astype(np.int16)).max(axis=2) > 25
            own = real_footage.face(i, "main")
            if own is not None:
                changed[_region(own, changed.shape, pad=0.4)] = False
            assert int(changed.sum()) < 30, (i, int(changed.sum()))
