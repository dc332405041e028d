"""``animate``, the offline animator: the still's mouth driven by the lip-sync stage's visemes (the
``mouth`` backend renders it), blinks, and a small 2-D similarity motion of the head region.

The head moves by a smooth displacement field: the frame's similarity motion at full weight over the
head and shoulders, fading to nothing well before the frame's outer band, so the background near the
edges stays exactly still (no swimming borders) and nothing tears where the motion fades out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from layer_desktop.engine.faces.types import ImageRGB
from layer_desktop.engine.lipsync.backends import MouthSyncer
from layer_desktop.engine.lipsync.driver import MouthTrack, mouth_track
from layer_desktop.engine.lipsync.mel import RATE
from layer_desktop.engine.lipsync.phonemes import AlignmentError
from layer_desktop.engine.lipsync.sync import inter_ocular, loudness_per_frame
from layer_desktop.engine.pipeline.disclosure import draw_mark
from layer_desktop.engine.pipeline.spec import Disclosure
from layer_desktop.engine.provenance.watermark import embed as embed_watermark
from layer_desktop.engine.swap.warp import Rect
from layer_desktop.engine.talking.eyes import close_eyes
from layer_desktop.engine.talking.motion import Blink, blink_curve, blinks, head_pose
from layer_desktop.engine.talking.photo import Portrait
from layer_desktop.engine.talking.speech import TalkSpeech

log = logging.getLogger(__name__)

NAME = "animate"
LABEL = "animate (offline animator: the photo warped by visemes, blinks and head motion; no generative model)"
STILL_BORDER = 0.08  # of the short side: the outer band that never moves (the check is on the outer 5 %)


@dataclass(frozen=True)
class _Field:
    """Where the head motion applies: a weight per pixel (1 on the head, 0 at the edges) inside ``rect``."""

    rect: Rect
    weight: NDArray[np.float32]
    xs: NDArray[np.float32]
    ys: NDArray[np.float32]


def motion_field(width: int, height: int, centre: tuple[float, float], face_w: float) -> _Field:
    """The head's weight map: an ellipse over head and neck (full weight), a smooth fall-off around it,
    and exactly 0 in the outer ``STILL_BORDER`` band of the frame."""
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    cx, cy = centre
    rx, ry = 1.05 * face_w, 1.45 * face_w
    r = np.sqrt(((xs - cx) / rx) ** 2 + ((ys - (cy + 0.15 * face_w)) / ry) ** 2)
    inner = np.clip((1.9 - r) / 0.9, 0.0, 1.0)  # 1 inside r ≤ 1, 0 beyond r = 1.9
    band = STILL_BORDER * min(width, height)
    edge = np.minimum(np.minimum(xs, width - 1 - xs), np.minimum(ys, height - 1 - ys))
    outer = np.clip((edge - band) / band, 0.0, 1.0)
    w = inner * inner * (3 - 2 * inner) * outer * outer * (3 - 2 * outer)
    rows, cols = np.nonzero(w > 0)
    if rows.size == 0:
        return _Field(Rect(0, 0, 0, 0), np.zeros((0, 0), np.float32), xs[:0, :0], ys[:0, :0])
    rect = Rect(int(cols.min()), int(rows.min()), int(cols.max()) + 1, int(rows.max()) + 1)
    sl = rect.slices()
    return _Field(rect, np.ascontiguousarray(w[sl], np.float32), xs[sl].copy(), ys[sl].copy())


def similarity(pose: NDArray[np.floating], centre: tuple[float, float], face_w: float) -> NDArray[np.float64]:
    """The 2x3 inverse map (output → still) of a pose (dx, dy in face widths, angle°, scale offset)
    about ``centre``."""
    dx, dy, angle, scale = (float(v) for v in pose)
    forward = cv2.getRotationMatrix2D(centre, angle, 1.0 + scale)
    forward[:, 2] += np.array([dx * face_w, dy * face_w])
    return np.asarray(cv2.invertAffineTransform(forward), np.float64)


class Animator:
    """Frames of the talking head, each computed on its own from per-frame curves (no state between
    frames), so any frame can be previewed or rendered again and comes out the same."""

    name = NAME
    label = LABEL

    def __init__(
        self, portrait: Portrait, speech: TalkSpeech, *, fps: int, motion: float, seed: int,
        disclosure: Disclosure, watermark: int | None = None,
    ) -> None:  # fmt: skip
        self.portrait, self.speech, self.fps = portrait, speech, fps
        self.frames = max(1, round(speech.duration_s * fps))
        self.disclosure, self.watermark = disclosure, watermark
        self.mouth = MouthSyncer(self._track(speech))
        rng = np.random.default_rng(seed)
        self.blinks: list[Blink] = blinks(self.frames / fps, rng)
        self.eyes = blink_curve(self.blinks, fps, self.frames)
        loud = loudness_per_frame(speech.samples16k, RATE, fps, self.frames)
        self.pose = head_pose(loud, fps, self.frames, rng, motion)
        lm = portrait.landmarks
        self.face_w = max(2.2 * inter_ocular(lm), portrait.face.width)
        self.centre = (float(lm[:, 0].mean()), float(lm[:, 1].mean()))
        h, w = portrait.rgb.shape[:2]
        self.field = motion_field(w, h, self.centre, self.face_w)
        self.model: Callable[[int], ImageRGB] | None = None  # a model's face for frame i (see use_model)

    def use_model(self, name: str, label: str, face: Callable[[int], ImageRGB]) -> None:
        """Let a model (e.g. LivePortrait) make the face of each frame from this animator's curves
        (``self.mouth.track``, ``self.eyes``); the head motion, mark and watermark stay this animator's."""
        self.name, self.label, self.model = name, label, face

    def _track(self, speech: TalkSpeech) -> MouthTrack:
        try:
            track = mouth_track(
                speech.samples16k,
                self.fps,
                self.frames,
                phonemes=speech.phonemes,
                transcript=speech.transcript,
            )
        except AlignmentError as exc:
            log.warning("the script could not be aligned to the speech (%s): the mouth follows loudness", exc)
            track = mouth_track(speech.samples16k, self.fps, self.frames)
        log.info("mouth driven by %s", track.source)
        return track

    @property
    def mouth_source(self) -> str:
        return self.mouth.track.source

    def frame(self, index: int) -> ImageRGB:
        """Frame ``index`` (RGB, the still's size)."""
        if self.model is not None:
            rgb = self.model(index)
        else:
            rgb = self.portrait.rgb.copy()
            close_eyes(rgb, self.portrait.landmarks, float(self.eyes[index]))
            self.mouth.apply(rgb, self.portrait.face, index)
        out = self._moved(rgb, index)
        if self.disclosure.visible_mark:
            draw_mark(out, self.disclosure)
        if self.watermark is not None:
            embed_watermark(out, self.watermark)
        return out

    def _moved(self, rgb: ImageRGB, index: int) -> ImageRGB:
        f = self.field
        pose = self.pose[index]
        if f.rect.empty or not np.any(np.abs(pose) > 1e-6):
            return rgb
        m = similarity(pose, self.centre, self.face_w).astype(np.float32)
        sx = m[0, 0] * f.xs + m[0, 1] * f.ys + m[0, 2]
        sy = m[1, 0] * f.xs + m[1, 1] * f.ys + m[1, 2]
        map_x = f.xs + f.weight * (sx - f.xs)
        map_y = f.ys + f.weight * (sy - f.ys)
        out = rgb.copy()
        out[f.rect.slices()] = cv2.remap(rgb, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        return out
