"""Reading a video's invisible watermark back: detection per frame over a sample of its frames."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
from numpy.typing import NDArray

from layer_desktop.engine.media.probe import probe
from layer_desktop.engine.media.reader import upright
from layer_desktop.engine.provenance.watermark import Detection, detect, vote
from layer_desktop.errors import ProvenanceError


@dataclass(frozen=True)
class WatermarkReport:
    """How many sampled frames hold the mark, and the payload read from them together."""

    frames: int
    found: int
    payload: int | None
    detections: tuple[Detection, ...]

    @property
    def rate(self) -> float:
        return self.found / self.frames if self.frames else 0.0


def check_frames(frames: list[NDArray[np.uint8]]) -> WatermarkReport:
    """Detect the mark in decoded RGB frames (numpy arrays)."""
    detections = tuple(detect(f) for f in frames)
    return WatermarkReport(
        len(detections), sum(d.found for d in detections), vote(list(detections)), detections
    )


def check_file(path: Path, samples: int = 30) -> WatermarkReport:
    """Detect the mark in up to ``samples`` frames spread over ``path``, turned the way they are shown
    (the render marks them upright, and a rotated source's output is stored turned back). Raises
    ``MediaError`` subclasses for a file that cannot be read, ``ProvenanceError`` for one without video
    frames."""
    info = probe(path)
    if info.video is None:
        raise ProvenanceError(f"{path.name} has no video to check.", hint="Give a video file.", path=path)
    frames: list[NDArray[np.uint8]] = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        total = stream.frames or samples
        step = max(1, total // samples)
        for i, frame in enumerate(container.decode(stream)):
            if i % step == 0:
                image = np.asarray(frame.to_ndarray(format="rgb24"), np.uint8)
                frames.append(upright(image, info.video.rotation))
            if len(frames) >= samples:
                break
    return check_frames(frames)
