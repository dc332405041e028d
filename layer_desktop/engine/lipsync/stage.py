"""Lip-sync as a stage of the transform job: after the swap, on the job's own plan (tracks, smoothed
landmarks), driven by the output's audio; and the sync review of every frame.

The stage is built once per job run from the spec, the plan and the audio, holding only per-frame
numbers (mouth parameters, the review measures), so a frame re-rendered in a splice comes out the same.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from layer_desktop.engine.faces.types import Face, ImageRGB
from layer_desktop.engine.lipsync.audio import driving_samples, fit_audio
from layer_desktop.engine.lipsync.backends import LicenceNotice, LipSyncer, MouthSyncer, make_lipsyncer
from layer_desktop.engine.lipsync.mel import RATE
from layer_desktop.engine.lipsync.mouth import MAX_OPEN
from layer_desktop.engine.lipsync.options import LipSyncOptions
from layer_desktop.engine.lipsync.sync import loudness_per_frame, measure_sync, mouth_opening
from layer_desktop.engine.media.audio import Pcm
from layer_desktop.engine.models import ModelStore
from layer_desktop.engine.personas import PersonaStore
from layer_desktop.engine.voice.audio_file import write_audio
from layer_desktop.engine.voice.speech import Timing

if TYPE_CHECKING:  # the pipeline imports this module: no runtime import back
    from layer_desktop.engine.pipeline.plan import FramePlan

log = logging.getLogger(__name__)

OPEN_IN_SILENCE = 0.1  # mouth opening (inter-ocular distances) that counts as open
SILENCE_S = 0.35  # a pause longer than this is silence: the mouth should be closed
QUIET_DB = 35.0  # frames this far under the loudest (95th percentile) are quiet


@dataclass(frozen=True)
class SyncReview:
    """Per frame: the window's A/V offset and confidence, and whether the mouth is open in a silence."""

    av_offset: NDArray[np.int64]
    confidence: NDArray[np.float64]
    open_in_silence: NDArray[np.bool_]

    def at(self, index: int) -> tuple[int | None, float | None, bool | None]:
        if not 0 <= index < len(self.av_offset):
            return None, None, None
        return int(self.av_offset[index]), float(self.confidence[index]), bool(self.open_in_silence[index])


def options_at(
    base: LipSyncOptions, segments: Sequence[tuple[int, int, LipSyncOptions | None]], frame: int
) -> LipSyncOptions:
    """The lip-sync options for ``frame``: the last segment holding it that sets them wins."""
    for start, stop, options in reversed(segments):
        if options is not None and start <= frame <= stop:
            return options
    return base


def silent_frames(loudness: NDArray[np.float64], fps: float) -> NDArray[np.bool_]:
    """Frames inside quiet runs longer than ``SILENCE_S``, less one frame at each end (the mouth may
    still be closing, or already opening, there)."""
    if loudness.size == 0:
        return np.zeros(0, bool)
    quiet = loudness < float(np.percentile(loudness, 95)) - np.log(10.0 ** (QUIET_DB / 20))
    out = np.zeros(quiet.shape, bool)
    start = None
    for i, q in enumerate([*quiet, False]):
        if q and start is None:
            start = i
        elif not q and start is not None:
            if (i - start) / fps > SILENCE_S:
                out[start + 1 : i - 1] = True
            start = None
    return out


def review_sync(mouth: NDArray[np.float64], loudness: NDArray[np.float64], fps: float) -> SyncReview:
    """The per-frame review numbers from a mouth-opening series and the audio's loudness."""
    n = len(mouth)
    offset = np.zeros(n, np.int64)
    confidence = np.zeros(n)
    for w in measure_sync(mouth, loudness, fps):
        offset[w.start : w.stop] = w.offset  # later (overlapping) windows take the frames they share
        confidence[w.start : w.stop] = w.confidence
    opened = np.asarray(np.nan_to_num(mouth, nan=0.0) > OPEN_IN_SILENCE, bool)
    return SyncReview(offset, confidence, opened & silent_frames(loudness, fps))


class LipSyncStage:
    """The transform's lip-sync step: ``apply`` moves the mouth where the frame's options turn it on."""

    def __init__(self, syncer: LipSyncer, enabled: NDArray[np.bool_], review: SyncReview) -> None:
        self.syncer, self.enabled, self.review = syncer, enabled, review

    def apply(self, rgb: ImageRGB, face: Face, index: int) -> bool:
        """Move the mouth in ``rgb`` (in place); True when the frame was changed."""
        if index >= len(self.enabled) or not self.enabled[index]:
            return False
        return self.syncer.apply(rgb, face, index) is not None


def predicted_mouth(
    plan: Sequence[FramePlan], syncer: LipSyncer, enabled: NDArray[np.bool_]
) -> NDArray[np.float64]:
    """The output's mouth opening per frame: the mouth backend's own opening where it runs, else the
    source's (an ONNX model's result is only known after the render: its frames count as the source's)."""
    out = np.full(len(plan), np.nan)
    for i, p in enumerate(plan):
        face = p.raw if p.raw is not None else p.target
        if face is not None and face.landmarks is not None:
            out[i] = mouth_opening(face.landmarks)
        if isinstance(syncer, MouthSyncer) and enabled[i] and p.target is not None:
            out[i] = float(syncer.params(i)[0]) * MAX_OPEN
    return out


def script_audio(
    text: str, persona: str, folder: Path, source: str, store: PersonaStore | None = None
) -> tuple[str, tuple[Timing, ...]]:
    """``text`` spoken in the persona's voice (system speech, with eSpeak NG phoneme timings), fitted to
    the source's audio format and length; returns the WAV's path and the phonemes."""
    from layer_desktop.engine.voice import synthesize

    speech = synthesize(text, persona, backend="system", store=store)
    raw = folder / "script_raw.wav"
    write_audio(raw, Pcm(speech.pcm.samples, speech.pcm.rate, 0.0, speech.pcm.rate, 1))
    return str(fit_audio(raw, source, folder / "script.wav")), speech.phonemes


def build_stage(
    base: LipSyncOptions,
    segments: Sequence[tuple[int, int, LipSyncOptions | None]],
    plan: Sequence[FramePlan],
    audio: str,
    fps: float,
    *,
    phonemes: Sequence[Timing] = (),
    models: ModelStore | None = None,
    on_licence: LicenceNotice | None = None,
) -> LipSyncStage:
    """The stage for a job whose output audio is ``audio``. One backend per job (the spec's, or the
    first segment's that turns lip-sync on); segments switch it on or off per frame."""
    n = len(plan)
    per_frame = [options_at(base, segments, i) for i in range(n)]
    enabled = np.array([o.enabled for o in per_frame], bool)
    options = next((o for o in per_frame if o.enabled), base)
    samples = driving_samples(audio)
    syncer = make_lipsyncer(options, samples, fps, n, phonemes=phonemes, models=models, on_licence=on_licence)
    loud = loudness_per_frame(samples, RATE, fps, n)
    review = review_sync(predicted_mouth(plan, syncer, enabled), loud, fps)
    log.info("lip-sync: %s on %d of %d frames", options.backend, int(enabled.sum()), n)
    return LipSyncStage(syncer, enabled, review)
