"""Quality metrics of a transformed video: flicker inside the face mask, and seam energy on its border.

flicker   mean absolute change between consecutive frames inside the mask (0-255 levels);
          compare the output's to the source's over the same masks
seam      mean gradient magnitude on the mask's border band (0.2 < mask < 0.8); compare to the
          source's there: a visible seam raises it
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from layer_desktop.engine.faces.types import ImageRGB
from layer_desktop.engine.media.reader import FrameReader
from layer_desktop.engine.pipeline.analysis import analyse_video
from layer_desktop.engine.pipeline.job import Job, analysis_key
from layer_desktop.engine.pipeline.plan import FramePlan, make_plan
from layer_desktop.engine.swap.landmark import mask_options
from layer_desktop.engine.swap.masks import Mask, face_mask
from layer_desktop.engine.swap.warp import Rect

MaskAt = tuple[Rect, Mask] | None


def job_plan(job: Job) -> list[FramePlan]:
    """The frame plan of a finished job (from its stored face analysis)."""
    spec = job.spec
    with FrameReader(spec.source) as reader:
        found = analyse_video(reader, job.folder / "analysis", analysis_key(spec))
    return make_plan(spec, found.frames, found.shots)


def job_masks(job: Job, width: int, height: int) -> list[MaskAt]:
    """Per frame, the hull mask of the swapped face (eyes and mouth kept out as in the job) or None."""
    masks: list[MaskAt] = []
    for p in job_plan(job):
        enabled, _, options = job.spec.settings_at(p.index)
        if not enabled or p.target is None or p.target.landmarks is None:
            masks.append(None)
            continue
        pts = p.target.landmarks[:, :2]
        rect = Rect.around(pts, 2.0, width, height)
        size = max(p.target.width, p.target.height, 1.0)
        masks.append((rect, face_mask(pts, rect, size, mask_options(options))))
    return masks


def _full(mask_at: tuple[Rect, Mask], shape: tuple[int, int]) -> Mask:
    full = np.zeros(shape, np.float32)
    rect, mask = mask_at
    full[rect.slices()] = mask
    return full


def flicker(frames: Sequence[ImageRGB], masks: Sequence[MaskAt]) -> float:
    """Mean absolute frame-to-frame change inside the (binarised) masks, over frames where both have one."""
    total, weight = 0.0, 0.0
    shape = frames[0].shape[:2]
    for t in range(1, len(frames)):
        a, b = masks[t - 1], masks[t]
        if a is None or b is None:
            continue
        m = (_full(a, shape) > 0.5) & (_full(b, shape) > 0.5)
        diff = np.abs(frames[t].astype(np.int16) - frames[t - 1].astype(np.int16)).mean(axis=2)
        total += float(diff[m].sum())
        weight += float(m.sum())
    return total / max(weight, 1.0)


def seam_energy(frame: ImageRGB, mask_at: MaskAt) -> float:
    """Mean gradient magnitude (Sobel on grey) on the mask's soft border band; NaN without a mask."""
    if mask_at is None:
        return float("nan")
    full = _full(mask_at, frame.shape[:2])
    band = (full > 0.2) & (full < 0.8)
    if not band.any():
        return float("nan")
    grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.float32)
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3)
    return float(np.hypot(gx, gy)[band].mean())
