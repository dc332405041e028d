"""Face overlays for the viewer: boxes, track ids and landmarks of the faces in the shown frame.

While overlays are on, a background pass tracks the faces through the whole clip with the transform
job's own face analysis (same detector, tracker and chunking as a default render), so the id drawn on a
face is the one ``track:N`` picks in a segment's face choice. Each finished chunk of the pass is saved in
the app's cache and used at once; the pass resumes where it stopped (turning overlays off stops it) and is
not repeated for an unchanged file. A frame whose chunk is not tracked yet is detected on its own, shown
without an id. Requests run on the task manager's heavy worker; the newest wins while scrubbing.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal

from layer_desktop.engine.faces.analyzer import FaceAnalyzer
from layer_desktop.engine.faces.types import Face
from layer_desktop.engine.media.reader import FrameReader
from layer_desktop.engine.pipeline.analysis import AnalysisKey, analyse, chunk_file, load_chunk
from layer_desktop.engine.pipeline.job import source_key
from layer_desktop.engine.pipeline.spec import Output, TransformSpec
from layer_desktop.paths import app_paths
from layer_desktop.ui.tasks import TaskManager

log = logging.getLogger(__name__)

DETECTOR = TransformSpec.model_fields["detector"].default  # as a default render analyses the clip
CHUNK_FRAMES = Output().chunk_frames
CACHED_CHUNKS = 16  # chunks of tracked faces kept in memory for scrubbing
KEPT_CLIPS = 8  # clips whose tracks stay in the cache


def tracks_key(source: Path) -> AnalysisKey:
    """What the tracks of ``source`` depend on: the file as it is now (path, size, modification time)."""
    return AnalysisKey(source_key(str(source)), DETECTOR, CHUNK_FRAMES)


def tracks_folder(key: AnalysisKey) -> Path:
    return app_paths().cache_dir / "face-tracks" / key.source[:32]


def prune_tracks(keep: int = KEPT_CLIPS) -> None:
    """Keep the tracks of the ``keep`` clips used last (landmarks take ~6 KB a face a frame: 84 MB for
    ten minutes of one face); older ones are deleted and are tracked again if that clip comes back."""
    root = app_paths().cache_dir / "face-tracks"
    folders = sorted(root.glob("*/"), key=lambda f: f.stat().st_mtime, reverse=True) if root.is_dir() else []
    for old in folders[keep:]:
        shutil.rmtree(old, ignore_errors=True)


class FaceOverlays(QObject):
    ready = Signal(object)  # (frame index, list of {"bbox", "track", "landmarks"})
    tracking = Signal(int, int)  # frames tracked, frames in the clip (emitted from the pass's thread)

    def __init__(self, tasks: TaskManager, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self.enabled = False
        self.tracked = 0  # frames of the current source tracked so far
        self._analyzer: FaceAnalyzer | None = None
        self._wanted: tuple[int, np.ndarray] | None = None
        self._in_flight = False
        self._source: Path | None = None
        self._key: AnalysisKey | None = None  # the tracks' cache key of the source, made when it is set
        self._chunks: dict[tuple[str, int], list[list[Face]]] = {}  # the heavy worker's only
        self._cancel = threading.Event()
        self._pass_running = False

    # ------------------------------------------------------------------ GUI thread
    def set_source(self, path: Path | None) -> None:
        """A new clip: the old pass stops, and a new one starts if overlays are on."""
        self._stop_pass()
        self._source, self._key, self.tracked = path, None, 0
        if path is not None:
            try:
                self._key = tracks_key(path)
            except OSError as exc:  # gone already: overlays detect frame by frame
                log.info("no face tracks for %s: %s", path, exc)
        if self.enabled:
            self._start_pass()

    def set_enabled(self, on: bool) -> None:
        self.enabled = on
        if on:
            self._start_pass()
        else:
            self._stop_pass()

    def close(self) -> None:
        """Stop the pass (called before the task manager shuts down, which waits for it)."""
        self._stop_pass()

    def request(self, index: int, rgb: np.ndarray) -> None:
        if not self.enabled:
            return
        self._wanted = (index, rgb)
        if not self._in_flight:
            self._next()

    def _next(self) -> None:
        wanted, self._wanted = self._wanted, None
        if wanted is None:
            return
        self._in_flight = True
        index, rgb = wanted
        key = self._key
        self.tasks.run(lambda: (index, self._faces(key, index, rgb)), self._done, self._failed)

    def _done(self, result: tuple[int, list[dict[str, Any]]]) -> None:
        self._in_flight = False
        self.ready.emit(result)
        self._next()

    def _failed(self, exc: BaseException) -> None:
        self._in_flight = False
        log.info("face overlays failed: %s", exc)
        self._next()

    def _start_pass(self) -> None:
        if self._source is None or self._key is None or self._pass_running:
            return
        source, key, cancel = self._source, self._key, threading.Event()
        self._cancel, self._pass_running = cancel, True
        self.tasks.run(
            lambda: self._track(source, key, cancel),
            lambda _frames: self._pass_ended(source, cancel, None),
            lambda exc: self._pass_ended(source, cancel, exc),
            background=True,
        )

    def _stop_pass(self) -> None:
        self._cancel.set()

    def _pass_ended(self, source: Path, cancel: threading.Event, error: BaseException | None) -> None:
        """A pass finished or stopped: a new one starts when overlays are on and it was stopped, or the
        clip changed meanwhile (a pass that failed on its own is not retried)."""
        self._pass_running = False
        if error is not None and not cancel.is_set():
            log.warning("face tracking stopped: %s", error)  # overlays fall back to per-frame detection
        elif self.enabled and (source != self._source or cancel.is_set()):
            self._start_pass()

    # ------------------------------------------------------------------ workers
    def _track(self, source: Path, key: AnalysisKey, cancel: threading.Event) -> int:
        """The whole clip's faces, tracked; chunk files appear as they are done (background worker)."""
        folder = tracks_folder(key)
        if folder.is_dir():
            os.utime(folder)  # used now: the last to be pruned
        prune_tracks()

        def progress(done: int, total: int) -> None:
            if done < total and done % CHUNK_FRAMES == 0:  # the end is reported below, once
                self.tracked = done
                self.tracking.emit(done, total)

        with FrameReader(source) as reader:
            frames = analyse(reader, folder, key, progress=progress, cancel=cancel)
        self.tracked = len(frames)
        self.tracking.emit(len(frames), len(frames))
        return len(frames)

    def _faces(self, key: AnalysisKey | None, index: int, rgb: np.ndarray) -> list[dict[str, Any]]:
        tracked = self._tracked_faces(key, index) if key is not None else None
        if tracked is not None:
            return [face_row(f, f.track_id) for f in tracked]
        if self._analyzer is None:
            self._analyzer = FaceAnalyzer.default(detector_range=DETECTOR)
        return [face_row(f, None) for f in self._analyzer.detect(rgb)]

    def _tracked_faces(self, key: AnalysisKey, index: int) -> list[Face] | None:
        chunk = index // key.chunk_frames
        if (key.source, chunk) not in self._chunks:
            path = chunk_file(tracks_folder(key), chunk)
            if not path.is_file():
                return None
            start, _, frames = load_chunk(path)
            if start != chunk * key.chunk_frames:
                return None
            if len(self._chunks) >= CACHED_CHUNKS:
                self._chunks.pop(next(iter(self._chunks)))
            self._chunks[(key.source, chunk)] = frames
        frames = self._chunks[(key.source, chunk)]
        offset = index - chunk * key.chunk_frames
        return frames[offset] if offset < len(frames) else None


def face_row(face: Face, track: int | None) -> dict[str, Any]:
    return {
        "bbox": tuple(float(v) for v in face.bbox),
        "track": track,
        "landmarks": None if face.landmarks is None else np.asarray(face.landmarks)[:, :2],
    }
