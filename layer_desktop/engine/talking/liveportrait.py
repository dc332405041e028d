"""The ``liveportrait`` talking-head backend: the photo's mouth and eyes driven by LivePortrait's lip and
eye retargeters from the viseme (mouth-open) and blink curves.

Models: FaceFusion's ONNX export of LivePortrait as its face editor uses it (``models-3.0.0``, MIT),
six files, ``live_portrait_<role>.onnx``. The contract used here (from FaceFusion's face editor):

- ``feature_extractor``: ``input`` (1, 3, 256, 256) RGB in [0, 1] → the appearance feature volume
  (first output; (1, 32, 16, 64, 64) in LivePortrait).
- ``motion_extractor``: ``input`` as above → seven outputs, in this order: pitch, yaw, roll (degrees),
  scale, translation (1, 3), expression (1, 21, 3), motion points (1, 21, 3). Read by position; their
  names are not relied on.
- ``lip_retargeter``: ``input`` (1, 65) = the photo's posed keypoints (63) + the photo's lip ratio +
  the target lip ratio → a keypoint delta (1, 63).
- ``eye_retargeter``: ``input`` (1, 66) = keypoints (63) + left and right eye ratios + the target eye
  ratio → a keypoint delta (1, 63).
- ``stitcher``: ``source`` (driving keypoints) and ``target`` (the photo's keypoints), (1, 21, 3) each
  → the stitched driving keypoints (1, 21, 3).
- ``generator``: ``feature_volume``, ``source`` (stitched driving keypoints), ``target`` (the photo's)
  → (1, 3, 512, 512) RGB in [0, 1].

Assumed, not confirmed from the export itself: the angle/scale outputs' exact shapes (read as scalars
whatever their shape), and the retargeters' ratio units (measured here on Face Mesh points standing in
for the 68-point ones). Per frame: target lip ratio = ``mouth_open × LIP_OPEN_RATIO``; target eye
ratio = ``eye_open ×`` the photo's mean eye ratio, so an open frame asks for the photo's own eyes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from layer_desktop.engine.faces.types import ImageRGB
from layer_desktop.engine.lipsync.driver import MouthTrack
from layer_desktop.engine.models.pool import InferencePool
from layer_desktop.engine.models.store import ModelStore
from layer_desktop.engine.talking.liveportrait_geometry import (
    CROP,
    FaceLike,
    Motion,
    Paste,
    as_face,
    crop_matrix,
    face_ratios,
    model_input,
    paste_mask,
)
from layer_desktop.errors import ImageError, ModelError, ModelNotFoundError
from layer_desktop.settings import Device

log = logging.getLogger(__name__)

NAME = "liveportrait"
LABEL = "liveportrait (LivePortrait model: the photo's lips and eyes re-posed by its retargeters)"
ROLES = ("feature_extractor", "motion_extractor", "eye_retargeter", "lip_retargeter", "stitcher", "generator")
MODEL_IDS: dict[str, str] = {role: f"live_portrait_{role}" for role in ROLES}
LIP_OPEN_RATIO = 1.0  # the target lip ratio of a fully open mouth (FaceFusion's "open" target)
KEYPOINTS = 21


def missing_models(store: ModelStore) -> list[str]:
    """The LivePortrait model ids that are not on disk (or not in the manifest)."""
    missing = []
    for model_id in MODEL_IDS.values():
        if model_id not in store.manifest or not store.status(model_id).present:
            missing.append(model_id)
    return missing


def require_models(store: ModelStore) -> None:
    """Raise ``ModelNotFoundError`` naming ``layer models fetch <id>`` for each missing model."""
    missing = missing_models(store)
    if not missing:
        return
    commands = "; ".join(f"`layer models fetch {m}`" for m in missing)
    raise ModelNotFoundError(
        f"The liveportrait backend needs {len(missing)} model(s) that are not installed: "
        f"{', '.join(missing)}.",
        hint=f"Run {commands} (or choose the offline `animate` backend).",
    )


def _scalar(value: Any) -> float:
    arr = np.asarray(value, np.float64).ravel()
    if arr.size < 1:
        raise ModelError("The LivePortrait motion extractor returned an empty angle or scale.")
    return float(arr[0])


def _curve(values: Sequence[float] | NDArray[np.floating], name: str) -> NDArray[np.float64]:
    arr = np.asarray(values, np.float64).ravel()
    if arr.size == 0:
        raise ImageError(f"The {name} curve is empty: nothing to animate.")
    if not np.all(np.isfinite(arr)):
        raise ImageError(f"The {name} curve has values that are not numbers.")
    return np.clip(arr, 0.0, 1.0)


@dataclass(frozen=True)
class Prepared:
    """What is computed once per photo: the crop's paste-back, the feature volume, the photo's motion
    and keypoints, and its eye/lip ratios."""

    photo: ImageRGB
    paste: Paste
    feature_volume: NDArray[np.float32]
    motion: Motion
    keypoints: NDArray[np.float32]  # (1, 21, 3)
    ratios: tuple[float, float, float]  # left eye, right eye, lip


class LivePortraitAnimator:
    """LivePortrait through the engine's ONNX sessions; raises ``ModelNotFoundError`` (naming the
    ``layer models fetch`` commands) when any of its six models is missing."""

    name = NAME
    label = LABEL

    def __init__(
        self, store: ModelStore, *, pool: InferencePool | None = None, device: Device = "auto"
    ) -> None:
        require_models(store)
        self.store = store
        self.pool = pool if pool is not None else InferencePool(store.resolve)
        self.device = device

    def _run(self, role: str, feed: dict[str, NDArray[np.float32]]) -> list[Any]:
        session = self.pool.get(MODEL_IDS[role], self.device).session
        try:
            return list(session.run(None, feed))
        except Exception as exc:  # ONNX Runtime raises its own untyped errors
            raise ModelError(
                f"The LivePortrait {role} model failed on its input ({exc}).",
                hint=f"Fetch it again with `layer models fetch {MODEL_IDS[role]}`.",
            ) from exc

    def prepare(self, photo: ImageRGB, face: FaceLike) -> Prepared:
        """Crop the face, extract its feature volume and motion once."""
        if photo.ndim != 3 or photo.shape[2] != 3 or photo.dtype != np.uint8:
            raise ImageError(f"The photo must be an 8-bit RGB image; got {photo.dtype} {photo.shape}.")
        the_face = as_face(face)
        matrix = crop_matrix(the_face)
        crop = cv2.warpAffine(
            photo, matrix, (CROP, CROP), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
        blob = model_input(np.asarray(crop, np.uint8))
        volume = np.asarray(self._run("feature_extractor", {"input": blob})[0], np.float32)
        outs = self._run("motion_extractor", {"input": blob})
        if len(outs) < 7:
            raise ModelError(f"The LivePortrait motion extractor returned {len(outs)} outputs, expected 7.")
        pitch, yaw, roll, scale, translation, expression, points = outs[:7]
        motion = Motion(
            _scalar(pitch), _scalar(yaw), _scalar(roll),
            np.asarray(scale, np.float32).reshape(1, 1),
            np.asarray(translation, np.float32).reshape(1, 3),
            np.asarray(expression, np.float32).reshape(1, KEYPOINTS, 3),
            np.asarray(points, np.float32).reshape(1, KEYPOINTS, 3),
        )  # fmt: skip
        h, w = photo.shape[:2]
        return Prepared(photo, Paste.of(matrix, w, h, paste_mask()), volume, motion, motion.keypoints(),
                        face_ratios(the_face))  # fmt: skip

    def lip_input(self, prep: Prepared, mouth_open: float) -> NDArray[np.float32]:
        """The lip retargeter's (1, 65): keypoints, the photo's lip ratio, the target lip ratio."""
        target = float(np.clip(mouth_open, 0.0, 1.0)) * LIP_OPEN_RATIO
        return (
            np.concatenate([prep.keypoints.ravel(), [prep.ratios[2], target]])
            .reshape(1, -1)
            .astype(np.float32)
        )

    def eye_input(self, prep: Prepared, eye_open: float) -> NDArray[np.float32]:
        """The eye retargeter's (1, 66): keypoints, the photo's two eye ratios, the target eye ratio."""
        left, right, _ = prep.ratios
        target = float(np.clip(eye_open, 0.0, 1.0)) * (left + right) / 2.0
        return (
            np.concatenate([prep.keypoints.ravel(), [left, right, target]]).reshape(1, -1).astype(np.float32)
        )

    def frame(
        self,
        prep: Prepared,
        mouth_open: float,
        eye_open: float,
        pose: tuple[float, float, float] = (0.0, 0.0, 0.0),
    ) -> ImageRGB:
        """One frame: retargeted lips and eyes (and ``pose`` degrees of head turn), stitched, generated,
        pasted back into the photo."""
        lip = self._run("lip_retargeter", {"input": self.lip_input(prep, mouth_open)})[0]
        eye = self._run("eye_retargeter", {"input": self.eye_input(prep, eye_open)})[0]
        driving = prep.motion.keypoints(pose) if any(pose) else prep.keypoints.copy()
        driving = driving + np.asarray(lip, np.float32).reshape(1, KEYPOINTS, 3)
        driving = driving + np.asarray(eye, np.float32).reshape(1, KEYPOINTS, 3)
        stitched = self._run("stitcher", {"source": driving.astype(np.float32), "target": prep.keypoints})[0]
        feed = {
            "feature_volume": prep.feature_volume,
            "source": np.asarray(stitched, np.float32).reshape(1, KEYPOINTS, 3),
            "target": prep.keypoints,
        }
        out = np.asarray(self._run("generator", feed)[0], np.float32)
        if out.shape[-3:] != (3, CROP, CROP):
            raise ModelError(
                f"The LivePortrait generator returned {out.shape}, expected (1, 3, {CROP}, {CROP})."
            )
        crop = np.clip(out.reshape(3, CROP, CROP).transpose(1, 2, 0) * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return prep.paste.apply(prep.photo, crop)

    def animate(
        self,
        photo: ImageRGB,
        face: FaceLike,
        mouth_open: Sequence[float] | NDArray[np.floating],
        eye_open: Sequence[float] | NDArray[np.floating],
        pose: NDArray[np.floating] | None = None,
    ) -> Iterator[ImageRGB]:
        """RGB frames of the photo's size, one per value of ``mouth_open`` (0 closed … 1 open);
        ``eye_open`` (1 open … 0 closed, e.g. 1 − the blink curve) is stretched or cut to the same
        length; ``pose`` optionally gives (frames, 3) pitch/yaw/roll degrees of head motion."""
        mouth = _curve(mouth_open, "mouth-open")
        eyes = _curve(eye_open, "eye-open")
        if len(eyes) != len(mouth):
            eyes = np.interp(np.linspace(0, len(eyes) - 1, len(mouth)), np.arange(len(eyes)), eyes)
        poses = np.zeros((len(mouth), 3)) if pose is None else np.asarray(pose, np.float64).reshape(-1, 3)
        if len(poses) != len(mouth):
            raise ImageError(f"The head pose has {len(poses)} frames; the mouth curve has {len(mouth)}.")
        prep = self.prepare(photo, face)
        log.info("liveportrait: %d frames of %dx%d", len(mouth), photo.shape[1], photo.shape[0])
        for m, e, p in zip(mouth, eyes, poses, strict=True):
            yield self.frame(prep, float(m), float(e), (float(p[0]), float(p[1]), float(p[2])))

    def animate_track(
        self,
        photo: ImageRGB,
        face: FaceLike,
        track: MouthTrack,
        blink: Sequence[float] | NDArray[np.floating],
        pose: NDArray[np.floating] | None = None,
    ) -> Iterator[ImageRGB]:
        """``animate`` driven by the lip-sync stage's mouth track (its per-frame viseme openness, 0 on
        bilabials … 0.95 on open vowels) and a blink curve (0 open … 1 shut)."""
        mouth = np.asarray(track.params, np.float64)[:, 0] if len(track.params) else np.zeros(0)
        return self.animate(photo, face, mouth, 1.0 - _curve(blink, "blink"), pose)
