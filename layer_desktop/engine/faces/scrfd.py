"""SCRFD / RetinaFace detectors (insightface ``det_10g``, ``scrfd_2.5g_bnkps``) on ONNX Runtime.

Input ``[1, 3, 640, 640]``, ``(x - 127.5) / 128`` RGB; nine outputs: scores, box distances and
keypoint distances for strides 8, 16 and 32, two anchors per cell (decoding as insightface
``scrfd.py``: ``distance2bbox`` / ``distance2kps``, NMS at 0.4).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from layer_desktop.engine.faces.geometry import clip_bbox, iou_many, letterbox
from layer_desktop.engine.faces.onnx_session import (
    ModelSource,
    check_input,
    open_session,
    run_single,
    to_blob,
)
from layer_desktop.engine.faces.types import Face, ImageRGB, sort_by_area
from layer_desktop.errors import ModelError

log = logging.getLogger(__name__)

STRIDES = (8, 16, 32)
ANCHORS_PER_CELL = 2


@dataclass(frozen=True)
class ScrfdConfig:
    """Input size and thresholds (insightface defaults)."""

    input_size: int = 640
    min_score: float = 0.5
    nms_iou: float = 0.4


def anchor_centres(size: int, stride: int, per_cell: int = ANCHORS_PER_CELL) -> NDArray[np.float32]:
    """Anchor centres (n, 2) in input pixels, row-major with ``per_cell`` copies per cell."""
    cells = size // stride
    ys, xs = np.mgrid[:cells, :cells]
    centres = (np.stack([xs, ys], axis=-1).reshape(-1, 2) * stride).astype(np.float32)
    return np.repeat(centres, per_cell, axis=0)


def distance2bbox(points: NDArray[np.float32], distance: NDArray[np.float32]) -> NDArray[np.float32]:
    """Boxes x0 y0 x1 y1 from centres and (left, top, right, bottom) distances."""
    return np.stack(
        [
            points[:, 0] - distance[:, 0],
            points[:, 1] - distance[:, 1],
            points[:, 0] + distance[:, 2],
            points[:, 1] + distance[:, 3],
        ],
        axis=-1,
    )


def distance2kps(points: NDArray[np.float32], distance: NDArray[np.float32]) -> NDArray[np.float32]:
    """Keypoints (n, k, 2) from centres and (dx, dy) offsets."""
    d = distance.reshape(distance.shape[0], distance.shape[1] // 2, 2)
    return (points[:, None, :] + d).astype(np.float32)


def group_outputs(outs: list[NDArray[np.float32]], size: int) -> dict[int, tuple[NDArray[np.float32], ...]]:
    """Map the nine outputs to {stride: (scores, boxes, kps)} by their shapes, not their names."""
    flat = [o.reshape(-1, o.shape[-1]) for o in outs]
    grouped: dict[int, tuple[NDArray[np.float32], ...]] = {}
    for stride in STRIDES:
        n = (size // stride) ** 2 * ANCHORS_PER_CELL
        by_width = {f.shape[1]: f for f in flat if f.shape[0] == n}
        if not {1, 4, 10} <= by_width.keys():
            raise ModelError(
                f"The SCRFD model's outputs {[list(o.shape) for o in outs]} lack stride {stride} "
                f"(expected {n} rows of scores, boxes and 5 keypoints)."
            )
        grouped[stride] = (by_width[1], by_width[4], by_width[10])
    return grouped


def nms(boxes: NDArray[np.float32], scores: NDArray[np.float32], iou_threshold: float) -> list[int]:
    """Classic hard NMS; indices kept, best first."""
    order = np.argsort(-scores, kind="stable")
    keep: list[int] = []
    while order.size:
        i = int(order[0])
        keep.append(i)
        overlap = iou_many(boxes[i].astype(np.float64), boxes[order[1:]].astype(np.float64))
        order = order[1:][overlap <= iou_threshold]
    return keep


class ScrfdDetector:
    """SCRFD/RetinaFace face detector with 5 keypoints."""

    def __init__(self, model: ModelSource, config: ScrfdConfig | None = None, *, name: str = "scrfd") -> None:
        self.config = config or ScrfdConfig()
        self.session = open_session(model)
        size = self.config.input_size
        self.input_name = check_input(self.session, (1, 3, size, size), "SCRFD")
        self.name = name
        self._anchors = {s: anchor_centres(size, s) for s in STRIDES}

    def detect(self, rgb: ImageRGB) -> list[Face]:
        """Faces in an RGB frame, largest first, in frame pixels."""
        size = self.config.input_size
        square, scale = letterbox(rgb, size)
        outs = run_single(self.session, self.input_name, to_blob(square, 127.5, 128.0))
        boxes, kps, scores = [], [], []
        for stride, (sc, bb, kp) in group_outputs(outs, size).items():
            keep = sc[:, 0] >= self.config.min_score
            anchors = self._anchors[stride][keep]
            boxes.append(distance2bbox(anchors, bb[keep] * stride))
            kps.append(distance2kps(anchors, kp[keep] * stride))
            scores.append(sc[keep, 0])
        all_boxes, all_scores = np.concatenate(boxes), np.concatenate(scores)
        all_kps = np.concatenate(kps)
        h, w = rgb.shape[:2]
        faces = []
        for i in nms(all_boxes, all_scores, self.config.nms_iou):
            b = all_boxes[i] / scale
            faces.append(
                Face(
                    bbox=clip_bbox((float(b[0]), float(b[1]), float(b[2]), float(b[3])), w, h),
                    score=float(all_scores[i]),
                    keypoints=(all_kps[i] / scale).astype(np.float32),
                )
            )
        return sort_by_area(faces)
