"""SSD anchors, box decoding and weighted NMS, as MediaPipe's BlazeFace graphs define them.

Follows ``SsdAnchorsCalculator``, ``TensorsToDetectionsCalculator`` and the WEIGHTED mode of
``NonMaxSuppressionCalculator`` (mediapipe/calculators/tflite and util).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from layer_desktop.engine.faces.geometry import iou_many


@dataclass(frozen=True)
class AnchorSpec:
    """SSD anchor options (a subset of ``SsdAnchorsCalculatorOptions``; fixed anchor size only)."""

    input_size: int
    strides: tuple[int, ...]
    min_scale: float = 0.1484375
    max_scale: float = 0.75
    anchor_offset: float = 0.5
    aspect_ratios: tuple[float, ...] = (1.0,)
    interpolated_scale_aspect_ratio: float = 1.0


# face_detection_short_range.pbtxt and face_detection_full_range.pbtxt
SHORT_RANGE = AnchorSpec(input_size=128, strides=(8, 16, 16, 16))
FULL_RANGE = AnchorSpec(input_size=192, strides=(4,), interpolated_scale_aspect_ratio=0.0)


def _same_stride_run(spec: AnchorSpec, first_layer: int) -> int:
    """How many consecutive layers from ``first_layer`` share its stride (they share a feature map)."""
    stride = spec.strides[first_layer]
    run = 0
    for s in spec.strides[first_layer:]:
        if s != stride:
            break
        run += 1
    return run


def anchors_per_cell(spec: AnchorSpec, first_layer: int) -> int:
    """How many anchors each feature-map cell gets for the layers sharing ``first_layer``'s stride."""
    per_layer = len(spec.aspect_ratios) + (1 if spec.interpolated_scale_aspect_ratio > 0 else 0)
    return _same_stride_run(spec, first_layer) * per_layer


def generate_anchors(spec: AnchorSpec) -> NDArray[np.float32]:
    """Anchor centres (n, 2) in normalised [0, 1] coordinates, in the model's output order.

    With fixed anchor size every anchor is 1 x 1, so only the centres matter for decoding.
    """
    out: list[NDArray[np.float32]] = []
    layer = 0
    while layer < len(spec.strides):
        per_cell = anchors_per_cell(spec, layer)
        stride = spec.strides[layer]
        fm = math.ceil(spec.input_size / stride)
        ys, xs = np.meshgrid(np.arange(fm), np.arange(fm), indexing="ij")
        centres = np.stack([(xs + spec.anchor_offset) / fm, (ys + spec.anchor_offset) / fm], axis=-1)
        centres = np.repeat(centres.reshape(-1, 1, 2), per_cell, axis=1).reshape(-1, 2)
        out.append(centres.astype(np.float32))
        layer += _same_stride_run(spec, layer)
    return np.concatenate(out, axis=0)


@dataclass(frozen=True)
class Decoded:
    """Detections in normalised input coordinates: boxes (n, 4) x0 y0 x1 y1, keypoints (n, k, 2)."""

    boxes: NDArray[np.float32]
    keypoints: NDArray[np.float32]
    scores: NDArray[np.float32]


def decode(
    raw_boxes: NDArray[np.float32],
    raw_scores: NDArray[np.float32],
    anchors: NDArray[np.float32],
    *,
    scale: float,
    num_keypoints: int = 6,
    min_score: float = 0.5,
    score_clip: float = 100.0,
) -> Decoded:
    """Decode SSD outputs (``reverse_output_order``: x before y) against fixed-size anchors."""
    raw_boxes = raw_boxes.reshape(len(anchors), -1)
    logits = np.clip(raw_scores.reshape(-1).astype(np.float64), -score_clip, score_clip)
    scores = 1.0 / (1.0 + np.exp(-logits))
    keep = scores >= min_score
    raw, anc = raw_boxes[keep].astype(np.float64), anchors[keep].astype(np.float64)
    cx = raw[:, 0] / scale + anc[:, 0]
    cy = raw[:, 1] / scale + anc[:, 1]
    w, h = raw[:, 2] / scale, raw[:, 3] / scale
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
    kp = raw[:, 4 : 4 + 2 * num_keypoints].reshape(-1, num_keypoints, 2) / scale + anc[:, None, :]
    return Decoded(boxes.astype(np.float32), kp.astype(np.float32), scores[keep].astype(np.float32))


def weighted_nms(det: Decoded, iou_threshold: float = 0.3) -> Decoded:
    """MediaPipe's weighted NMS: overlapping detections are blended, weighted by score.

    The blended detection keeps the best score of its cluster.
    """
    order = np.argsort(-det.scores, kind="stable")
    remaining = order
    boxes, kps, scores = [], [], []
    while remaining.size:
        top = remaining[0]
        overlap = iou_many(det.boxes[top].astype(np.float64), det.boxes[remaining].astype(np.float64))
        cluster = remaining[overlap > iou_threshold]
        if cluster.size == 0:  # degenerate (zero-area) box: keep it alone
            cluster = remaining[:1]
        w = det.scores[cluster].astype(np.float64)
        w = w / w.sum()
        boxes.append((det.boxes[cluster] * w[:, None]).sum(axis=0))
        kps.append((det.keypoints[cluster] * w[:, None, None]).sum(axis=0))
        scores.append(det.scores[top])
        remaining = remaining[~np.isin(remaining, cluster)]
    k = det.keypoints.shape[1] if det.keypoints.ndim == 3 else 0
    return Decoded(
        np.asarray(boxes, dtype=np.float32).reshape(-1, 4),
        np.asarray(kps, dtype=np.float32).reshape(-1, k, 2),
        np.asarray(scores, dtype=np.float32),
    )
