"""BlazeFace detectors (MediaPipe short-range 128 and full-range sparse 192) on LiteRT."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from layer_desktop.engine.faces import ssd
from layer_desktop.engine.faces.geometry import clip_bbox, letterbox
from layer_desktop.engine.faces.litert import FULL_RANGE_FILE, SHORT_RANGE_FILE, TfliteModel, shipped_model
from layer_desktop.engine.faces.types import Face, ImageRGB, sort_by_area
from layer_desktop.errors import ModelError

log = logging.getLogger(__name__)

BlazeFaceRange = Literal["short", "full"]


@dataclass(frozen=True)
class BlazeFaceConfig:
    """Which model and thresholds (MediaPipe's defaults: 0.5 short-range, 0.6 full-range, NMS 0.3)."""

    range: BlazeFaceRange = "full"
    min_score: float | None = None
    nms_iou: float = 0.3


class BlazeFaceDetector:
    """Finds faces with 6 keypoints; the frame is letterboxed, so any aspect ratio works."""

    def __init__(
        self,
        config: BlazeFaceConfig | None = None,
        *,
        model_path: str | Path | None = None,
        num_threads: int = 1,
    ) -> None:
        self.config = config or BlazeFaceConfig()
        short = self.config.range == "short"
        self.spec = ssd.SHORT_RANGE if short else ssd.FULL_RANGE
        self.min_score = (
            self.config.min_score if self.config.min_score is not None else (0.5 if short else 0.6)
        )
        self.name = f"blazeface-{self.config.range}"
        path = model_path or shipped_model(SHORT_RANGE_FILE if short else FULL_RANGE_FILE)
        self.model = TfliteModel(path, num_threads=num_threads)
        self.anchors = ssd.generate_anchors(self.spec)
        shapes = sorted(self.model.output_shapes.values())
        if self.model.input_shape[1:3] != (self.spec.input_size,) * 2 or shapes[0][1] != len(self.anchors):
            raise ModelError(
                f"{Path(path).name} does not match BlazeFace {self.config.range}-range "
                f"(input {self.model.input_shape}, outputs {shapes}, {len(self.anchors)} anchors expected).",
                path=path,
            )

    def detect(self, rgb: ImageRGB) -> list[Face]:
        """Faces in an RGB uint8 frame, largest first, in frame pixels (no dense landmarks)."""
        size = self.spec.input_size
        square, scale = letterbox(rgb, size)
        tensor = (square.astype(np.float32) / 127.5 - 1.0)[None]
        outs = self.model.run(tensor)
        raw_boxes = next(v for v in outs.values() if v.shape[-1] == 16)
        raw_scores = next(v for v in outs.values() if v.shape[-1] == 1)
        dec = ssd.decode(raw_boxes, raw_scores, self.anchors, scale=float(size), min_score=self.min_score)
        dec = ssd.weighted_nms(dec, self.config.nms_iou)
        px = size / scale  # normalised letterbox coordinates -> frame pixels
        h, w = rgb.shape[:2]
        faces = []
        for box, kps, score in zip(dec.boxes, dec.keypoints, dec.scores, strict=True):
            b = clip_bbox(
                (float(box[0] * px), float(box[1] * px), float(box[2] * px), float(box[3] * px)), w, h
            )
            if b[2] - b[0] < 2 or b[3] - b[1] < 2:
                continue
            faces.append(Face(bbox=b, score=float(score), keypoints=(kps * px).astype(np.float32)))
        return sort_by_area(faces)
