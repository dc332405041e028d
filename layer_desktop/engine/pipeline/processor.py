"""Pass 3 of a transform job: the per-frame step of the chunked render (swap, enhance, mark, record).

Stateless per frame: everything temporal was settled in the plan, so a frame re-rendered in a splice
comes out exactly as in the first render with the same settings.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from typing import Any

import av
import numpy as np

from layer_desktop.engine.faces.types import Face, ImageRGB
from layer_desktop.engine.lipsync.stage import LipSyncStage
from layer_desktop.engine.media.reader import coded, upright
from layer_desktop.engine.pipeline.disclosure import draw_mark
from layer_desktop.engine.pipeline.keyframes import mix
from layer_desktop.engine.pipeline.plan import FramePlan
from layer_desktop.engine.pipeline.records import FrameRecord, flag
from layer_desktop.engine.pipeline.spec import TransformSpec
from layer_desktop.engine.provenance.follow import MarkFollower
from layer_desktop.engine.provenance.watermark import embed as embed_watermark
from layer_desktop.engine.swap.options import SwapOptions
from layer_desktop.engine.swap.types import Enhancer, Swapper

StageFactory = Callable[[str, SwapOptions], tuple[Swapper, Enhancer | None]]


def apply_swap(
    rgb: ImageRGB, face: Face, swapper: Swapper, enhancer: Enhancer | None, reference: int | None
) -> dict[str, float]:
    """Swap ``face`` in the upright frame ``rgb`` (in place), then enhance it; returns the milliseconds
    each took (``swap``, ``enhance``). Shared with the live preview so both render a face the same way."""
    ms: dict[str, float] = {}
    t = time.perf_counter()
    result = swapper.swap(rgb, face, reference)
    ms["swap"] = (time.perf_counter() - t) * 1000
    if enhancer is not None:
        t = time.perf_counter()
        enhancer.enhance(rgb, face, result)
        ms["enhance"] = (time.perf_counter() - t) * 1000
    return ms


class TransformProcessor:
    """The ``FrameProcessor`` of a transform job. ``stages(persona, options)`` builds (and caches) the
    swapper and enhancer for a segment; ``references`` is the persona photo per frame (or None)."""

    def __init__(
        self,
        spec: TransformSpec,
        plan: Sequence[FramePlan],
        stages: StageFactory,
        *,
        rotation: int,
        references: Sequence[int | None],
        on_record: Callable[[FrameRecord], None],
    ) -> None:
        self.spec, self.plan, self.stages = spec, plan, stages
        self.rotation, self.references, self.on_record = rotation, references, on_record
        self.lipsync: LipSyncStage | None = None  # set by the job when lip-sync is on
        key = json.dumps(spec.model_dump(exclude={"output"}), sort_keys=True)
        self.tag = "transform-" + hashlib.sha256(key.encode()).hexdigest()[:16]
        self.watermark: int | None = None  # the invisible mark's payload (set by the job), None: no mark
        self._follow = MarkFollower(spec.output_settings.chunk_frames)  # the mark moves with the picture

    def __call__(self, index: int, frame: av.VideoFrame) -> np.ndarray | None:
        started = time.perf_counter()
        enabled, persona, _ = self.spec.settings_at(index)
        options, blend = self.spec.keyframed_at(index)
        p = self.plan[index]
        ms: dict[str, float] = {}
        rgb: np.ndarray | None = None
        applied, reason = False, None
        if not enabled:
            reason = "swap turned off for this segment"
        elif p.target is None:
            reason = "face lost" if p.track_lost else "no face"
        else:
            rgb = upright(frame.to_ndarray(format="rgb24"), self.rotation)
            source = rgb.copy() if blend < 1.0 else None
            swapper, enhancer = self.stages(persona, options)
            ms.update(apply_swap(rgb, p.target, swapper, enhancer, self.references[index]))
            if source is not None:  # a keyframed blend: part of the swap over the source
                rgb = mix(source, rgb, blend)
            applied = True
        rgb = self._lipsync(index, frame, rgb, ms)
        if self.spec.disclosure.visible_mark:
            if rgb is None:
                rgb = upright(frame.to_ndarray(format="rgb24"), self.rotation)
            draw_mark(rgb, self.spec.disclosure)
        if self.watermark is not None:
            if rgb is None:
                rgb = upright(frame.to_ndarray(format="rgb24"), self.rotation)
            embed_watermark(rgb, self.watermark, self._follow(index, rgb))
        ms["total"] = (time.perf_counter() - started) * 1000
        raw = p.raw
        record = FrameRecord(
            frame=index, faces_found=p.faces_found, track=None if raw is None else raw.track_id,
            confidence=None if raw is None else raw.score, presence=None if raw is None else raw.presence,
            jitter=p.jitter, applied=applied, skip_reason=reason,
            backend=options.backend if applied else None,
            reference=self.references[index] if applied else None, ms=ms, shot=p.shot,
            bystander=p.bystander, **self._sync_review(index),
        )  # fmt: skip
        self.on_record(flag(record, enabled, p.track_lost))
        return None if rgb is None else coded(rgb, self.rotation)

    def _lipsync(
        self, index: int, frame: av.VideoFrame, rgb: np.ndarray | None, ms: dict[str, float]
    ) -> np.ndarray | None:
        """The lip-sync stage, after the swap, on the plan's target face (frames without it pass)."""
        target = self.plan[index].target
        if self.lipsync is None or target is None or not self.lipsync.enabled[index]:
            return rgb
        started = time.perf_counter()
        if rgb is None:
            rgb = upright(frame.to_ndarray(format="rgb24"), self.rotation)
        self.lipsync.apply(rgb, target, index)
        ms["lipsync"] = (time.perf_counter() - started) * 1000
        return rgb

    def _sync_review(self, index: int) -> dict[str, Any]:
        if self.lipsync is None:
            return {}
        offset, confidence, silent = self.lipsync.review.at(index)
        return {"av_offset": offset, "sync_confidence": confidence, "mouth_open_in_silence": silent}
