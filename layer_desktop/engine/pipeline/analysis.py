"""Pass 1 of a transform job: every face in every frame, tracked, saved chunk by chunk.

Each chunk of frames is written to ``faces_NNNNN.npz`` as soon as it is analysed, so a job killed
here resumes at the first missing chunk. The resumed tracker starts fresh; its tracks are linked to
the ones alive at the end of the previous chunk by box overlap, so track ids stay stable.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from layer_desktop.engine.faces import FaceAnalyzer, FaceTracker, TrackerConfig
from layer_desktop.engine.faces.geometry import iou
from layer_desktop.engine.faces.types import Face
from layer_desktop.engine.media.chunks import plan_chunks
from layer_desktop.engine.media.pipeline import RenderCancelled
from layer_desktop.engine.media.reader import FrameReader
from layer_desktop.settings import write_atomic

log = logging.getLogger(__name__)

ANALYSIS_VERSION = 1
FrameFaces = list[list[Face]]  # per frame, the faces with track ids
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class AnalysisKey:
    """What an analysis depends on; a stored analysis made for another key is discarded."""

    source: str  # fingerprint of the source file (path, size, mtime)
    detector: str
    chunk_frames: int

    def as_dict(self) -> dict[str, object]:
        return {"version": ANALYSIS_VERSION, **self.__dict__}


def chunk_file(folder: Path, index: int) -> Path:
    return folder / f"faces_{index:05d}.npz"


def save_chunk(path: Path, start: int, stop: int, frames: FrameFaces) -> None:
    """Write the faces of frames ``start .. stop-1`` (``frames[i]`` is frame ``start + i``)."""
    rows = [(start + i, f) for i, faces in enumerate(frames) for f in faces]
    lm = [f.landmarks for _, f in rows]
    has_lm = bool(rows) and all(x is not None and x.shape == (468, 3) for x in lm)
    kp_n = max((len(f.keypoints) for _, f in rows), default=1)
    arrays = {
        "range": np.array([start, stop], np.int64),
        "frame": np.array([i for i, _ in rows], np.int64),
        "track": np.array([-1 if f.track_id is None else f.track_id for _, f in rows], np.int64),
        "bbox": np.array([f.bbox for _, f in rows], np.float32).reshape(-1, 4),
        "score": np.array([f.score for _, f in rows], np.float32),
        "presence": np.array([np.nan if f.presence is None else f.presence for _, f in rows], np.float32),
        "keypoints": np.array(
            [np.resize(f.keypoints[:, :2], (kp_n, 2)) for _, f in rows], np.float32
        ).reshape(len(rows), kp_n, 2),
        "landmarks": np.array(lm if has_lm else [], np.float32).reshape(-1, 468, 3),
    }
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, **arrays)  # type: ignore[arg-type]
    tmp.replace(path)


def load_chunk(path: Path) -> tuple[int, int, FrameFaces]:
    """(start, stop, faces per frame) of a chunk file written by ``save_chunk``."""
    with np.load(path, allow_pickle=False) as z:
        start, stop = (int(v) for v in z["range"])
        frames: FrameFaces = [[] for _ in range(stop - start)]
        landmarks = z["landmarks"]
        for row, index in enumerate(z["frame"]):
            presence = float(z["presence"][row])
            frames[int(index) - start].append(
                Face(
                    bbox=tuple(float(v) for v in z["bbox"][row]),  # type: ignore[arg-type]
                    score=float(z["score"][row]),
                    keypoints=np.asarray(z["keypoints"][row], np.float32),
                    landmarks=np.asarray(landmarks[row], np.float32) if len(landmarks) else None,
                    track_id=int(z["track"][row]),
                    presence=None if np.isnan(presence) else presence,
                )
            )
    return start, stop, frames


class _Linker:
    """Maps a fresh tracker's ids onto the ids of tracks alive at the end of the previous chunk."""

    def __init__(self, previous: list[Face], next_id: int) -> None:
        self.previous = previous
        self.next_id = next_id
        self.mapping: dict[int, int] = {}

    def __call__(self, faces: list[Face]) -> list[Face]:
        out = []
        for face in faces:
            assert face.track_id is not None
            if face.track_id not in self.mapping:
                self.mapping[face.track_id] = self._link(face)
            out.append(face.with_track_id(self.mapping[face.track_id]))
        return out

    def _link(self, face: Face) -> int:
        taken = set(self.mapping.values())
        best = max(
            (p for p in self.previous if p.track_id not in taken),
            key=lambda p: iou(p.bbox, face.bbox),
            default=None,
        )
        if best is not None and best.track_id is not None and iou(best.bbox, face.bbox) >= 0.3:
            return best.track_id
        self.next_id += 1
        return self.next_id - 1


def analyse(
    reader: FrameReader,
    folder: Path,
    key: AnalysisKey,
    *,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> FrameFaces:
    """Faces (with track ids) of every frame of ``reader``'s video, resuming from ``folder``.

    Raises ``RenderCancelled`` when ``cancel`` is set (finished chunks are kept).
    """
    folder.mkdir(parents=True, exist_ok=True)
    _check_key(folder, key)
    plan = plan_chunks(reader.frame_count, key.chunk_frames)
    frames: FrameFaces = []
    done = 0
    while done < len(plan) and chunk_file(folder, done).is_file():
        frames.extend(load_chunk(chunk_file(folder, done))[2])
        done += 1
    if done < len(plan):
        _analyse_rest(reader, folder, key, plan, done, frames, progress, cancel)
    return frames


def _analyse_rest(
    reader: FrameReader,
    folder: Path,
    key: AnalysisKey,
    plan: list[tuple[int, int]],
    first_chunk: int,
    frames: FrameFaces,
    progress: Progress | None,
    cancel: threading.Event | None,
) -> None:
    analyzer = FaceAnalyzer.default(detector_range="full" if key.detector == "full" else "short")
    rate = float(reader.stream.average_rate or 25)
    tracker = FaceTracker(analyzer, TrackerConfig(fps=rate, smoothing=None))
    ids = [f.track_id for fs in frames for f in fs if f.track_id is not None]
    link = _Linker(frames[-1] if frames else [], max(ids, default=-1) + 1)
    start = plan[first_chunk][0]
    chunk, pending = first_chunk, []
    for index, rgb in reader.iter_upright(start):
        if cancel is not None and cancel.is_set():
            raise RenderCancelled("The job was cancelled; the analysed chunks are kept for a resume.")
        pending.append(link(tracker.update(rgb, reader.time_of(index))))
        if index == plan[chunk][1] - 1:
            save_chunk(chunk_file(folder, chunk), plan[chunk][0], plan[chunk][1], pending)
            frames.extend(pending)
            chunk, pending = chunk + 1, []
        if progress is not None:
            progress(index + 1, reader.frame_count)
    log.info("face analysis: %d frames, %d detector runs", tracker.stats.frames, tracker.stats.detections)


def _check_key(folder: Path, key: AnalysisKey) -> None:
    meta = folder / "analysis.json"
    wanted = key.as_dict()
    if meta.is_file():
        try:
            same = json.loads(meta.read_text()) == wanted
        except (OSError, ValueError):
            same = False
        if same:
            return
        log.info("face analysis in %s was made for another source or detector; starting again", folder)
        for old in folder.glob("faces_*.npz"):
            old.unlink()
    write_atomic(meta, json.dumps(wanted, indent=1).encode())
