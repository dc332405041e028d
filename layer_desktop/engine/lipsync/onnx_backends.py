"""Lip-sync with FaceFusion's ONNX exports: wav2lip 96 (and its GAN variant) and EDTalk 256.

Both see the face in an FFHQ-512 crop aligned by 5 points. wav2lip takes the box of the lower face
(the 68-point layout's bounding box, its top raised by 1/8 of its height) warped to 96², as BGR in
[0, 1]: channels 0–2 with rows 48–95 zeroed, 3–5 unmasked; the mel window is scaled by
``weight * 2``. EDTalk takes the whole crop at 256² as RGB in [0, 1] plus ``weight`` (1,). What is
pasted back is the model's *change* to its input, warped to the frame and weighted by the mask
(wav2lip: the lower-face hull of 68-pt jaw 3..13 and nose 35..31, Gaussian σ 5 feathered inside the
hull; EDTalk: a feathered box), so a model that returns its input leaves the frame as it was.
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from layer_desktop.engine.faces.align import five_points, umeyama
from layer_desktop.engine.faces.onnx_session import ModelSource, SessionLike, open_session
from layer_desktop.engine.faces.types import Face, ImageRGB
from layer_desktop.engine.lipsync.mel import mel_window
from layer_desktop.engine.lipsync.mouth import MouthFrame
from layer_desktop.engine.swap.warp import Rect
from layer_desktop.errors import ModelError

F32 = NDArray[np.float32]
CROP = 512
FFHQ_512 = np.array(
    [[0.37691676, 0.46864664], [0.62285697, 0.46912813], [0.50123859, 0.61331904],
     [0.39308822, 0.72541100], [0.61150205, 0.72490465]], np.float64,
) * CROP  # fmt: skip
# Face Mesh points standing in for the 68-point layout's jaw 0..16 and nose 31..35
MESH_JAW_68 = (127, 234, 93, 132, 58, 172, 136, 149, 152, 378, 365, 397, 288, 361, 323, 454, 356)
MESH_NOSE_68 = (98, 97, 2, 326, 327)
DETAIL_KEEP = 24.0  # levels of change from which the frame's own detail is dropped


def crop_matrix(face: Face) -> NDArray[np.float64]:
    """The 2x3 affine from the frame to the FFHQ-512 crop, by the face's 5 points."""
    return np.asarray(umeyama(five_points(face).astype(np.float64), FFHQ_512)[:2], np.float64)


def _points_68(face: Face) -> NDArray[np.float64]:
    if face.landmarks is None:
        raise ModelError("Lip-sync needs the face's Face Mesh landmarks.")
    lm = np.asarray(face.landmarks, np.float64)[:, :2]
    return lm[list(MESH_JAW_68) + list(MESH_NOSE_68)]


def _apply(m: NDArray[np.float64], pts: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.asarray(pts @ m[:, :2].T + m[:, 2])


def lower_face_mask(points_crop: NDArray[np.float64]) -> F32:
    """The 512² mask: hull of jaw 3..13 and nose 35..31, blurred σ 5 and feathered inside the hull."""
    pts = np.vstack([points_crop[3:14], points_crop[17:22][::-1]])
    mask = np.zeros((CROP, CROP), np.float32)
    hull = cv2.convexHull(np.round(pts).astype(np.int32))
    cv2.fillConvexPoly(mask, hull, 1.0)
    blurred = cv2.GaussianBlur(mask, (0, 0), 5)
    return np.asarray((np.clip(blurred, 0.5, 1.0) - 0.5) * 2.0, np.float32)


def box_mask(blur: float = 0.3) -> F32:
    """The 512² feathered box mask (EDTalk)."""
    amount = int(CROP * 0.5 * blur)
    edge = max(amount // 2, 1)
    mask = np.ones((CROP, CROP), np.float32)
    mask[:edge], mask[-edge:], mask[:, :edge], mask[:, -edge:] = 0, 0, 0, 0
    return np.asarray(cv2.GaussianBlur(mask, (0, 0), max(amount * 0.25, 0.5)), np.float32)


def _paste(
    rgb: ImageRGB,
    before: F32,
    after: F32,
    to_model: NDArray[np.float64],
    mask: F32,
    to_crop: NDArray[np.float64],
) -> MouthFrame | None:
    """Paste the model's output ``after`` for its input ``before`` (model-space RGB, 0..255) into ``rgb``,
    weighted by ``mask`` (crop space). The frame's own detail (frame minus the model's view of it) is
    kept where the model changed little and dropped where it redrew, so an unchanged face stays sharp
    and a redrawn mouth shows no ghost of the old one."""
    h, w = rgb.shape[:2]
    size_m = after.shape[0]  # only the model's square can change: the rect is its box in the frame
    corners = np.array([[0, 0], [size_m, 0], [0, size_m], [size_m, size_m]], np.float64)
    frame_corners = _apply(np.asarray(cv2.invertAffineTransform(to_model), np.float64), corners)
    rect = Rect.around(frame_corners, 2.0, w, h)
    if rect.empty:
        return None
    shift = np.array([[1.0, 0.0, rect.x0], [0.0, 1.0, rect.y0], [0.0, 0.0, 1.0]])
    size = (rect.width, rect.height)

    def back(image: F32, m: NDArray[np.float64]) -> F32:  # model/crop space -> rect pixels
        flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
        warped = cv2.warpAffine(image, m @ shift, size, flags=flags, borderMode=cv2.BORDER_REPLICATE)
        return np.asarray(warped, np.float32).reshape(rect.height, rect.width, -1)

    new, old = back(after, to_model), back(before, to_model)
    weight = back(mask, to_crop)[..., 0]
    weight[~_inside(rect, to_model, size_m)] = 0.0
    view = rgb[rect.slices()]
    detail = view.astype(np.float32) - old
    keep = np.clip(1.0 - np.abs(new - old).max(axis=2, keepdims=True) / DETAIL_KEEP, 0.0, 1.0)
    final = new + detail * keep
    out = view.astype(np.float32) * (1.0 - weight[..., None]) + final * weight[..., None]
    view[:] = np.clip(np.rint(out), 0, 255).astype(np.uint8)
    return MouthFrame(rect, weight)


def _inside(rect: Rect, to_model: NDArray[np.float64], size: int) -> NDArray[np.bool_]:
    """Rect pixels that fall inside the model's square (the replicated border outside must not count)."""
    ys, xs = np.mgrid[rect.y0 : rect.y1, rect.x0 : rect.x1].astype(np.float32)
    u = to_model[0, 0] * xs + to_model[0, 1] * ys + to_model[0, 2]
    v = to_model[1, 0] * xs + to_model[1, 1] * ys + to_model[1, 2]
    return np.asarray((u >= 0) & (u <= size - 1) & (v >= 0) & (v <= size - 1))


class _OnnxSyncer:
    name = "onnx"

    def __init__(self, model: ModelSource, mel: F32, fps: float, weight: float) -> None:
        self.session: SessionLike = open_session(model)
        self.mel, self.fps, self.weight = mel, fps, weight
        self._inputs = {str(i.name) for i in self.session.get_inputs()}

    def _run(self, feed: dict[str, F32]) -> F32:
        missing = set(feed) - self._inputs
        if missing:
            raise ModelError(
                f"The {self.name} model has no input(s) {', '.join(sorted(missing))}: is it the right file?"
            )
        return np.asarray(self.session.run(None, feed)[0], np.float32)


class Wav2LipSyncer(_OnnxSyncer):
    """wav2lip_96 / wav2lip_gan_96 (inputs ``source`` (1,1,80,16), ``target`` (1,6,96,96))."""

    name = "wav2lip"
    size = 96

    def apply(self, rgb: ImageRGB, face: Face, index: int) -> MouthFrame | None:
        to_crop = crop_matrix(face)
        pts = _apply(to_crop, _points_68(face))
        x0, y0 = pts.min(axis=0)
        x1, y1 = pts.max(axis=0)
        y0 -= abs(y1 - y0) * 0.125
        src = np.array([[x0, y0], [x1, y0], [x0, y1]], np.float32)
        dst = np.array([[0, 0], [self.size, 0], [0, self.size]], np.float32)
        area = np.asarray(cv2.getAffineTransform(src, dst), np.float64)
        to_model = area @ np.vstack([to_crop, [0, 0, 1]])
        bgr = cv2.warpAffine(rgb, to_model, (self.size, self.size), borderMode=cv2.BORDER_REPLICATE)[
            ..., ::-1
        ]
        full = bgr.transpose(2, 0, 1).astype(np.float32) / 255.0
        masked = full.copy()
        masked[:, self.size // 2 :] = 0.0
        target = np.ascontiguousarray(np.concatenate([masked, full])[None])
        source = (mel_window(self.mel, index, self.fps) * self.weight * 2.0)[None, None]
        out = self._run({"source": np.ascontiguousarray(source, np.float32), "target": target})
        before = np.ascontiguousarray(full[::-1].transpose(1, 2, 0) * 255.0)  # BGR planes -> RGB image
        after = np.ascontiguousarray(np.clip(out[0], 0.0, 1.0)[::-1].transpose(1, 2, 0) * 255.0)
        return _paste(rgb, before, after, to_model, lower_face_mask(pts), to_crop)


class EdTalkSyncer(_OnnxSyncer):
    """edtalk_256 (inputs ``source`` (1,1,80,16), ``target`` (1,3,256,256), ``weight`` (1,))."""

    name = "edtalk"
    size = 256

    def apply(self, rgb: ImageRGB, face: Face, index: int) -> MouthFrame | None:
        to_crop = crop_matrix(face)
        crop = cv2.warpAffine(rgb, to_crop, (CROP, CROP), borderMode=cv2.BORDER_REPLICATE)
        small = cv2.resize(crop, (self.size, self.size), interpolation=cv2.INTER_AREA)
        full = small.transpose(2, 0, 1).astype(np.float32) / 255.0
        source = mel_window(self.mel, index, self.fps)[None, None]
        feed = {
            "source": np.ascontiguousarray(source, np.float32),
            "target": np.ascontiguousarray(full[None]),
            "weight": np.array([self.weight], np.float32),
        }
        out = self._run(feed)
        before = np.ascontiguousarray(full.transpose(1, 2, 0) * 255.0)
        after = np.ascontiguousarray(np.clip(out[0], 0.0, 1.0).transpose(1, 2, 0) * 255.0)
        scale = np.diag([self.size / CROP, self.size / CROP, 1.0])[:2]
        to_model = scale @ np.vstack([to_crop, [0, 0, 1]])
        return _paste(rgb, before, after, to_model, box_mask(), to_crop)
