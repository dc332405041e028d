"""The invisible mark moves with the picture: the follower tracks a pan and a zoom, starts again at each
chunk, and a mark that follows a zooming picture survives a CRF 28 re-encode, on the generated
real-footage clip too (a push-in, cuts, a dissolve) with a crop on top."""

from __future__ import annotations

import logging

import av
import cv2
import numpy as np
import pytest
from numpy.typing import NDArray

from layer_desktop.engine.provenance import watermark as wm
from layer_desktop.engine.provenance.check import check_frames
from layer_desktop.engine.provenance.follow import MarkFollower
from tests.clips import reencode
from tests.conftest import SHARED_MEDIA
from tests.footage import Footage

Frame = NDArray[np.uint8]
log = logging.getLogger(__name__)


def _first_frame() -> Frame:
    with av.open(str(SHARED_MEDIA / "clips" / "talk_astronaut_4s.mp4")) as c:
        return next(c.decode(video=0)).to_ndarray(format="rgb24")


def _camera(t: int) -> NDArray[np.float64]:
    """The 2 x 3 map of frame ``t``'s camera: a slow zoom in (0.3 % a frame) and a pan."""
    zoom = 1 + 0.003 * t
    return np.array([[zoom, 0, -256 * (zoom - 1) - 0.8 * t], [0, zoom, -256 * (zoom - 1) - 0.5 * t]])


def _moving_clip(frames: int = 30) -> list[Frame]:
    still = _first_frame()
    size, flags = (512, 512), cv2.INTER_LINEAR
    return [
        cv2.warpAffine(still, _camera(t), size, flags=flags, borderMode=cv2.BORDER_REFLECT)
        for t in range(frames)
    ]


def _since_first(t: int) -> NDArray[np.float64]:
    full = np.vstack([_camera(t), [0, 0, 1]]) @ np.linalg.inv(np.vstack([_camera(0), [0, 0, 1]]))
    return full[:2]


def _corners(m: NDArray[np.float64]) -> NDArray[np.float64]:
    pts = np.array([[0, 0, 1], [511, 0, 1], [0, 511, 1], [511, 511, 1]], np.float64)
    return pts @ m.T


def test_the_follower_tracks_a_pan_and_a_zoom() -> None:
    follow = MarkFollower(chunk_frames=60)
    maps = [follow(t, f) for t, f in enumerate(_moving_clip(20))]
    errors = [float(np.abs(_corners(m) - _corners(_since_first(t))).max()) for t, m in enumerate(maps)]
    log.info("largest corner error over 20 frames: %.2f px (the picture moved %.1f px)", max(errors),
             float(np.abs(_corners(_since_first(19)) - _corners(np.eye(2, 3))).max()))  # fmt: skip
    assert max(errors) < 1.5


def test_the_follower_starts_again_at_each_chunk_and_after_a_gap() -> None:
    clip = _moving_clip(12)
    follow = MarkFollower(chunk_frames=5)
    maps = {t: follow(t, clip[t]) for t in range(8)}
    assert not np.allclose(maps[4], np.eye(2, 3), atol=0.5)
    assert np.allclose(maps[5], np.eye(2, 3)) and np.allclose(maps[0], np.eye(2, 3))
    assert np.allclose(follow(11, clip[11]), np.eye(2, 3))  # not the next frame: a chunk rendered alone
    # a chunk rendered alone gives what it gives within a whole render
    alone = MarkFollower(chunk_frames=5)
    assert all(np.allclose(alone(t, clip[t]), maps[t]) for t in (5, 6, 7))


def test_a_mark_that_moves_with_a_zooming_picture_survives_crf_28() -> None:
    clip = _moving_clip(30)
    follow = MarkFollower(chunk_frames=60)
    rates, payloads = {}, {}
    for name, where in (("fixed", lambda t, f: None), ("following", follow)):
        marked = [f.copy() for f in clip]
        for t, f in enumerate(marked):
            wm.embed(f, 0x0BEE, where(t, f))
        report = check_frames(reencode(reencode(marked, 18), 28))
        rates[name] = report.rate
        payloads[name] = report.payload
        log.info("%s mark after CRF 18 then 28: in %d/30 frames, payload %s", name, report.found,
                 report.payload == 0x0BEE)  # fmt: skip
    assert rates["following"] >= 0.9 and payloads["following"] == 0x0BEE
    assert rates["following"] > rates["fixed"]


@pytest.mark.slow
def test_on_the_real_footage_the_mark_survives_crf_28_and_a_crop(real_footage: Footage) -> None:
    """720p, 250 frames: a push-in on the wide shot (the mark starts again before the zoom leaves what
    the detector searches with a 10 % crop on top), a cut, a close-up, an audience, a dissolve."""
    with av.open(str(real_footage.path)) as c:
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    follow = MarkFollower(chunk_frames=60)
    for t, f in enumerate(frames):
        wm.embed(f, 0x2A2A, follow(t, f))
    h, w = frames[0].shape[:2]
    attacked = [np.ascontiguousarray(f[h // 10 : h - h // 10, w // 10 : w - w // 10])
                for f in reencode(reencode(frames, 18), 28)[::5]]  # fmt: skip
    report = check_frames(attacked)
    low = min(d.score for d in report.detections)
    log.info("real footage, CRF 28 and a 10 %% crop: mark in %d/%d frames, lowest score %.1f, payload %s",
             report.found, report.frames, low, report.payload == 0x2A2A)  # fmt: skip
    # every frame: the lowest score is about 12 against 6 needed, so a miss is a regression (the mark
    # zoomed with the push-in beyond the periods searched missed 2 cropped frames of 50 that way)
    assert report.found == report.frames and report.payload == 0x2A2A
