"""Pass 1 of a transform job: every face in every frame, tracked, saved chunk by chunk.

Each chunk of frames is written to ``faces_NNNNN.npz`` as soon as it is analysed, so a job killed
here resumes at the first missing chunk. The resumed tracker starts fresh; its tracks are linked to
the ones alive at the end of the previous chunk by box overlap, so track ids stay stable.

Each chunk also keeps two small features per frame (``shots.frame_features``); once every chunk is
there the shots are found from them (``shots.json``), the tracker is reset at every hard cut, and track
ids are split at every shot boundary, so no track crosses a cut or a dissolve.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from layer_desktop.engine.faces import FaceAnalyzer, FaceTracker, TrackerConfig
from layer_desktop.engine.faces.geometry import iou
from layer_desktop.engine.faces.mesh import FaceMeshLandmarker
from layer_desktop.engine.faces.signature import SIZE as SIGNATURE_SIZE
from layer_desktop.engine.faces.signature import face_signature
from layer_desktop.engine.faces.tiled import TiledDetector
from layer_desktop.engine.faces.types import Face
from layer_desktop.engine.media.chunks import plan_chunks
from layer_desktop.engine.media.pipeline import RenderCancelled
from layer_desktop.engine.media.reader import FrameReader
from layer_desktop.engine.pipeline.shots import (
    Shot,
    detect_shots,
    frame_features,
    hard_cuts,
    save_shots,
    split_tracks,
)
from layer_desktop.settings import write_atomic

log = logging.getLogger(__name__)

ANALYSIS_VERSION = 2  # 2: per-frame shot features in every chunk
TILES_PER_CALL = 2  # of the tiled detector: a 720p frame's 15 tiles are swept in 8 far calls
FAR_EVERY = 2  # the tiled detector's full-range passes on every 2nd call (and after a cut)
IDLE_DETECT_EVERY = 2  # frames between detector calls while no face is tracked
FrameFaces = list[list[Face]]  # per frame, the faces with track ids
Progress = Callable[[int, int], None]
Features = tuple[list[np.ndarray], list[np.ndarray]]  # per frame: histogram, grey thumbnail


@dataclass(frozen=True)
class Analysis:
    """Every frame's faces (track ids never crossing a shot boundary) and the video's shots."""

    frames: FrameFaces
    shots: list[Shot]


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


def save_chunk(
    path: Path, start: int, stop: int, frames: FrameFaces, features: Features | None = None
) -> None:
    """Write the faces of frames ``start .. stop-1`` (``frames[i]`` is frame ``start + i``) and, when
    given, their shot features."""
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
        "signature": np.array(
            [f.signature if f.signature is not None else np.zeros(SIGNATURE_SIZE) for _, f in rows],
            np.float32,
        ).reshape(-1, SIGNATURE_SIZE),
    }
    if features is not None:
        arrays["hist"] = np.array(features[0], np.float32)
        arrays["thumb"] = np.array(features[1], np.float32)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, **arrays)  # type: ignore[arg-type]
    tmp.replace(path)


def load_chunk(path: Path) -> tuple[int, int, FrameFaces]:
    """(start, stop, faces per frame) of a chunk file written by ``save_chunk``."""
    with np.load(path, allow_pickle=False) as z:
        start, stop = (int(v) for v in z["range"])
        frames: FrameFaces = [[] for _ in range(stop - start)]
        landmarks = z["landmarks"]
        signatures = z["signature"] if "signature" in z.files else None
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
                    signature=None if signatures is None else np.asarray(signatures[row], np.float32),
                )
            )
    return start, stop, frames


def load_features(path: Path) -> Features:
    """The per-frame shot features of a chunk file (empty lists for a chunk written without them)."""
    with np.load(path, allow_pickle=False) as z:
        if "hist" not in z.files:
            return [], []
        return list(z["hist"]), list(z["thumb"])


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
    """Faces (with track ids, split at shot boundaries) of every frame of ``reader``'s video, resuming
    from ``folder``. Raises ``RenderCancelled`` when ``cancel`` is set (finished chunks are kept)."""
    return analyse_video(reader, folder, key, progress=progress, cancel=cancel).frames


def analyse_video(
    reader: FrameReader,
    folder: Path,
    key: AnalysisKey,
    *,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> Analysis:
    """``analyse`` with the shots; also writes them to ``folder / "shots.json"``.

    Raises ``RenderCancelled`` when ``cancel`` is set (finished chunks are kept).
    """
    folder.mkdir(parents=True, exist_ok=True)
    _check_key(folder, key)
    plan = plan_chunks(reader.frame_count, key.chunk_frames)
    frames: FrameFaces = []
    features: Features = ([], [])
    done = 0
    while done < len(plan) and chunk_file(folder, done).is_file():
        frames.extend(load_chunk(chunk_file(folder, done))[2])
        hists, thumbs = load_features(chunk_file(folder, done))
        features[0].extend(hists)
        features[1].extend(thumbs)
        done += 1
    if done < len(plan):
        _analyse_rest(reader, folder, key, plan, done, frames, features, progress, cancel)
    shots = detect_shots(np.array(features[0], np.float32), np.array(features[1], np.float32))
    save_shots(folder / "shots.json", shots)
    return Analysis(split_tracks(frames, shots), shots)


def _video_analyzer(detector: str) -> FaceAnalyzer:
    """The analyzer for a video pass: ``auto`` visits a few tiles per detector call (``TiledDetector``)."""
    if detector == "auto":
        tiled = TiledDetector(tiles_per_call=TILES_PER_CALL, far_every=FAR_EVERY)
        return FaceAnalyzer(tiled, FaceMeshLandmarker())
    return FaceAnalyzer.default(detector_range="full" if detector == "full" else "short")


def _is_cut(features: Features) -> bool:
    """Whether the newest frame starts a shot (a hard cut against the frames just before it)."""
    recent = np.array(features[0][-9:], np.float32)
    return len(recent) > 1 and bool(hard_cuts(recent)[-1:] == [len(recent) - 1])


def _analyse_rest(
    reader: FrameReader,
    folder: Path,
    key: AnalysisKey,
    plan: list[tuple[int, int]],
    first_chunk: int,
    frames: FrameFaces,
    features: Features,
    progress: Progress | None,
    cancel: threading.Event | None,
    stop_chunk: int | None = None,
    id_base: int | None = None,
) -> None:
    """Analyse chunks ``first_chunk`` .. ``stop_chunk - 1`` (default: to the end) as a resume at
    ``first_chunk`` does: a fresh tracker whose ids are linked to ``frames[-1]`` (or, with no frames,
    numbered from ``id_base``); ``features`` holds at least the frames just before for the cut test."""
    analyzer = _video_analyzer(key.detector)
    rate = float(reader.stream.average_rate or 25)
    # the shot detector resets the tracker at cuts; the tracker's own test would also fire inside dissolves
    config = TrackerConfig(fps=rate, smoothing=None, scene_cut=2.0, idle_detect_every=IDLE_DETECT_EVERY)
    tracker = FaceTracker(analyzer, config)
    ids = [f.track_id for fs in frames for f in fs if f.track_id is not None]
    link = _Linker(frames[-1] if frames else [], max(ids, default=-1) + 1 if id_base is None else id_base)
    stop_chunk = len(plan) if stop_chunk is None else stop_chunk
    start = plan[first_chunk][0]
    chunk, pending, first = first_chunk, [], len(features[0])
    for index, rgb in reader.iter_upright(start):
        if cancel is not None and cancel.is_set():
            raise RenderCancelled("The job was cancelled; the analysed chunks are kept for a resume.")
        hist, thumb = frame_features(rgb)
        features[0].append(hist)
        features[1].append(thumb)
        if _is_cut(features) or index == start:
            tracker.reset()  # a face in the new shot is never followed from the old one
            if isinstance(analyzer.detector, TiledDetector):
                analyzer.detector.sweep_next()
        faces = link(tracker.update(rgb, reader.time_of(index)))
        pending.append([replace(f, signature=face_signature(rgb, f)) for f in faces])
        if index == plan[chunk][1] - 1:
            chunk_features = (features[0][first:], features[1][first:])
            save_chunk(chunk_file(folder, chunk), plan[chunk][0], plan[chunk][1], pending, chunk_features)
            frames.extend(pending)
            chunk, pending, first = chunk + 1, [], len(features[0])
        if progress is not None:
            progress(index + 1, reader.frame_count)
        if chunk == stop_chunk:
            break
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
