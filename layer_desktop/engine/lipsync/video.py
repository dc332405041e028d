"""Lip-sync of a whole video (``layer lipsync``) and the sync check of any file (``layer sync-check``).

Both stream: faces are analysed chunk by chunk into the work folder (the transform's analysis, so a
re-run resumes), frames are rendered by the chunked renderer; only per-frame numbers (landmarks,
mouth parameters) are held for the whole video, never frames.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
from numpy.typing import NDArray

from layer_desktop.engine.lipsync.audio import driving_samples, fit_audio
from layer_desktop.engine.lipsync.backends import LicenceNotice, LipSyncer, make_lipsyncer
from layer_desktop.engine.lipsync.mel import RATE
from layer_desktop.engine.lipsync.options import LipSyncOptions
from layer_desktop.engine.lipsync.sync import SyncWindow, loudness_per_frame, measure_sync, mouth_opening
from layer_desktop.engine.media.encode import OutputSettings
from layer_desktop.engine.media.opening import check_file
from layer_desktop.engine.media.preflight import check_output, disk_errors, hold_output
from layer_desktop.engine.media.reader import FrameReader, coded, upright
from layer_desktop.engine.media.render import RenderSpec, render
from layer_desktop.engine.models import ModelStore
from layer_desktop.engine.pipeline.analysis import AnalysisKey, FrameFaces, analyse
from layer_desktop.engine.pipeline.plan import FramePlan, make_plan
from layer_desktop.engine.pipeline.spec import TransformSpec
from layer_desktop.engine.voice.speech import Timing
from layer_desktop.paths import app_paths

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
CHUNK_FRAMES = 60


@dataclass(frozen=True)
class LipSyncReport:
    output: str
    frames: int
    changed: int
    backend: str
    windows: tuple[SyncWindow, ...]


class LipSyncProcessor:
    """The renderer's per-frame step: the target face's mouth moved by ``syncer``; other frames pass."""

    def __init__(self, plan: Sequence[FramePlan], syncer: LipSyncer, rotation: int, tag: str) -> None:
        self.plan, self.syncer, self.rotation, self.tag = plan, syncer, rotation, tag
        self.changed = 0

    def __call__(self, index: int, frame: av.VideoFrame) -> np.ndarray | None:
        target = self.plan[index].target if index < len(self.plan) else None
        if target is None:
            return None
        rgb = upright(frame.to_ndarray(format="rgb24"), self.rotation)
        if self.syncer.apply(rgb, target, index) is None:
            return None
        self.changed += 1
        return coded(rgb, self.rotation)


def _key(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def source_fingerprint(path: str | Path) -> str:
    p = Path(path).resolve()
    check_file(p)  # a clear error for a missing, empty or folder path
    st = p.stat()
    return hashlib.sha256(f"{p}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()


def analyse_faces(
    video: str | Path, work: Path, cancel: threading.Event | None = None
) -> tuple[FrameFaces, float, int]:
    """Faces of every frame (cached in ``work``), the frame rate and the display rotation."""
    with FrameReader(video) as reader:
        key = AnalysisKey(source_fingerprint(video), "short", CHUNK_FRAMES)
        frames = analyse(reader, work / "analysis", key, cancel=cancel)
        fps = float(reader.stream.average_rate or 25)
        return frames, fps, reader.rotation


def target_plan(video: str | Path, frames: FrameFaces, face: str = "auto") -> list[FramePlan]:
    """Per frame, the chosen face (smoothed) — the transform's own choice and smoothing."""
    spec = TransformSpec(source=str(video), output=str(video), persona="-", face=face)
    return make_plan(spec, frames)


def lipsync_video(
    video: str | Path,
    audio: str | Path,
    output: str | Path,
    options: LipSyncOptions | None = None,
    *,
    phonemes: Sequence[Timing] = (),
    face: str = "auto",
    models: ModelStore | None = None,
    on_licence: LicenceNotice | None = None,
    settings: OutputSettings | None = None,
    work_dir: Path | None = None,
) -> LipSyncReport:
    """Write ``output``: ``video`` with its mouth following ``audio`` and ``audio`` as its sound (fitted
    to the video's length as the voice stage does). Raises ``MediaError``/``NoFaceError``/model errors."""
    options = options or LipSyncOptions(enabled=True)
    out = Path(output)
    work = work_dir or app_paths().cache_dir / "lipsync" / _key(str(out.resolve()))
    settings = settings or OutputSettings()
    # before any work: never over an input, a folder, a missing folder or a full disk; one writer at a time
    check_output(Path(video), out, work, crf=settings.crf, other_inputs=(Path(audio),))
    with hold_output(out), disk_errors(work):
        return _lipsync(
            Path(video), Path(audio), out, options, phonemes, face, models, on_licence, settings, work
        )


def _lipsync(
    video: Path, audio: Path, output: Path, options: LipSyncOptions, phonemes: Sequence[Timing], face: str,
    models: ModelStore | None, on_licence: LicenceNotice | None, settings: OutputSettings, work: Path,
) -> LipSyncReport:  # fmt: skip
    work.mkdir(parents=True, exist_ok=True)
    frames, fps, rotation = analyse_faces(video, work)
    plan = target_plan(video, frames, face)
    samples = driving_samples(audio)
    syncer = make_lipsyncer(
        options, samples, fps, len(plan), phonemes=phonemes, models=models, on_licence=on_licence
    )
    fitted = fit_audio(audio, video, work / "audio.wav")
    tag = "lipsync-" + _key(options.model_dump_json(), source_fingerprint(audio), repr(phonemes)[:10000])
    proc = LipSyncProcessor(plan, syncer, rotation, tag)
    spec = RenderSpec(str(video), str(output), settings, CHUNK_FRAMES, str(fitted))
    render(spec, proc, work_dir=work / "render")
    return LipSyncReport(str(output), len(plan), proc.changed, options.backend, tuple(sync_check(output)))


def _opening(p: FramePlan) -> float:
    """The mouth opening from the frame's own (unsmoothed) landmarks: smoothing would blur closures."""
    face = p.raw if p.raw is not None else p.target
    assert face is not None and face.landmarks is not None
    return mouth_opening(face.landmarks)


def mouth_series(
    video: str | Path, face: str = "auto", work: Path | None = None
) -> tuple[NDArray[np.float64], float]:
    """Per frame, the chosen face's mouth opening (NaN without a face), and the frame rate."""
    folder = work or app_paths().cache_dir / "sync-check" / _key(source_fingerprint(video))
    frames, fps, _ = analyse_faces(video, folder)
    plan = target_plan(video, frames, face)
    return np.array([np.nan if p.target is None else _opening(p) for p in plan]), fps


def sync_check(video: str | Path, face: str = "auto", work: Path | None = None) -> list[SyncWindow]:
    """Offset (frames; positive = audio late) and confidence per 4–8 s window of ``video``.
    Raises ``NoAudioStreamError`` without audio, ``NoFaceError`` without a face."""
    mouth, fps = mouth_series(video, face, work)
    samples = driving_samples(video)
    return measure_sync(mouth, loudness_per_frame(samples, RATE, fps, len(mouth)), fps)
