"""One frame of a video with the persona's face swapped in, for scrubbing a timeline (no whole-video pass).

The frame is rendered the way a transform job renders it — the job's detector and landmarker, its
swapper and enhancer (``apply_swap``), its visible mark — with one difference: a job plans faces over
the whole video (tracked, landmarks smoothed over time, one persona photo per run of frames), a single
frame has no neighbours. So the preview uses this frame's own landmarks, unsmoothed, and the persona
photo nearest this face's pose. It matches the job's frame exactly where the job's landmarks are a fresh
detection and smoothing is off, and within a few pixels of landmark placement elsewhere.

Face choices, for one frame: ``auto`` is the largest face (what the job's ``auto`` picks when the video
is that one frame); ``X,Y@F`` the face under the point in this frame, else the face nearest it (the job
follows the point's track from frame F; here the point stands in for it); ``track:N`` falls back to
``auto``, since track ids only exist after the job's analysis of the whole video.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from layer_desktop.engine.faces import FaceAnalyzer, select_by_point
from layer_desktop.engine.faces.blazeface import BlazeFaceRange
from layer_desktop.engine.faces.types import Face, ImageRGB
from layer_desktop.engine.media.opening import check_file
from layer_desktop.engine.media.reader import FrameReader
from layer_desktop.engine.models import ModelStore
from layer_desktop.engine.personas import Persona, PersonaStore
from layer_desktop.engine.pipeline.disclosure import draw_mark
from layer_desktop.engine.pipeline.processor import apply_swap
from layer_desktop.engine.pipeline.spec import Disclosure, parse_face
from layer_desktop.engine.swap.options import SwapOptions
from layer_desktop.engine.swap.registry import make_enhancer, make_swapper
from layer_desktop.engine.swap.types import Enhancer, Swapper

log = logging.getLogger(__name__)

READER_CACHE_BYTES = 64 * 1024 * 1024  # decoded frames kept per open video (scrubbing back and forth)
READER_THREADS = "SLICE"  # FFmpeg threading for scattered access
_MARK = Disclosure()


@dataclass(frozen=True)
class FramePreview:
    """A rendered frame (upright RGB), the face swapped in it (None: none) and milliseconds per step."""

    image: ImageRGB
    face: Face | None
    ms: dict[str, float] = field(default_factory=dict)


def choose_face(faces: list[Face], choice: str) -> Face | None:
    """The target among one frame's ``faces`` (largest first, as ``FaceAnalyzer.detect`` gives them)
    for a face choice string (see the module notes). Raises ``InputError`` for a malformed choice."""
    kind, args = parse_face(choice)
    if not faces:
        return None
    if kind == "point":
        x, y = args[0], args[1]
        hit = select_by_point(faces, x, y)
        if hit is not None:
            return hit
        return min(faces, key=lambda f: float(np.hypot(x - f.center[0], y - f.center[1])))
    if kind == "track":
        log.debug("face %s: no tracks in a single frame; using the largest face", choice)
    return faces[0]


def persona_fingerprint(persona: Persona) -> str:
    """Changes whenever what a swapper is built from changes (photos, their faces, embeddings)."""
    digest = hashlib.sha256(persona.id.encode())
    for image in persona.chosen_faces:
        digest.update(f"|{image.sha256}|{image.bbox}".encode())
    for name in sorted(persona.embeddings):
        digest.update(name.encode() + np.ascontiguousarray(persona.embeddings[name]).tobytes())
    return digest.hexdigest()


class _OpenReaders:
    """Frame readers kept open per source path (opening and indexing is the slow part), least recently
    used closed first; a file changed on disk is opened again."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._open: OrderedDict[Path, tuple[tuple[int, int], FrameReader]] = OrderedDict()

    def get(self, source: Path) -> FrameReader:
        path = source.resolve()
        check_file(path)  # the project's errors for a missing, empty or folder path
        st = path.stat()
        stamp = (st.st_size, st.st_mtime_ns)
        held = self._open.get(path)
        if held is not None and held[0] == stamp:
            self._open.move_to_end(path)
            return held[1]
        if held is not None:
            self._drop(path)
        reader = FrameReader(path, cache_bytes=READER_CACHE_BYTES, threading_mode=READER_THREADS)
        self._open[path] = (stamp, reader)
        while len(self._open) > self.size:
            self._drop(next(iter(self._open)))
        return reader

    def _drop(self, path: Path) -> None:
        _, reader = self._open.pop(path)
        reader.close()

    def close(self) -> None:
        while self._open:
            self._drop(next(iter(self._open)))


class FramePreviewer:
    """Renders single frames as a transform job would. Not thread-safe: the readers and analyzers it
    keeps are single-threaded; call it from one thread (or under a lock). ``close()`` when done."""

    def __init__(
        self,
        store: PersonaStore,
        models: ModelStore | None = None,
        *,
        max_readers: int = 4,
        max_swappers: int = 8,
    ) -> None:
        self.store, self.models = store, models
        self._readers = _OpenReaders(max_readers)
        self._analyzers: dict[str, FaceAnalyzer] = {}
        self._stages: OrderedDict[tuple[str, str], tuple[Swapper, Enhancer | None]] = OrderedDict()
        self._max_swappers = max_swappers

    def frame(
        self,
        source: Path,
        index: int,
        *,
        persona: str | None = None,
        face: str = "auto",
        detector: BlazeFaceRange = "short",
        swap: SwapOptions | None = None,
        visible_mark: bool = True,
    ) -> ImageRGB:
        """Frame ``index`` of ``source``, upright RGB uint8, with ``persona``'s face swapped in (None: the
        source frame untouched, never marked). See ``preview`` for what it raises."""
        return self.preview(
            source, index, persona=persona, face=face, detector=detector, swap=swap, visible_mark=visible_mark
        ).image

    def preview(
        self,
        source: Path,
        index: int,
        *,
        persona: str | None = None,
        face: str = "auto",
        detector: BlazeFaceRange = "short",
        swap: SwapOptions | None = None,
        visible_mark: bool = True,
    ) -> FramePreview:
        """``frame`` with the face that was swapped and the time each step took. A frame without a face
        comes back unchanged (marked when a persona was asked for and ``visible_mark`` is on).

        Raises ``FrameOutOfRangeError`` for an index outside the video, ``MediaError`` subclasses for a
        file that cannot be read, ``PersonaNotFoundError`` for an unknown persona, ``InputError`` for a
        malformed ``face``, ``NoFaceError`` when the persona has no usable photo and
        ``ModelNotFoundError`` when a model backend's file is missing.
        """
        started = time.perf_counter()
        stages = None
        if persona is not None:
            parse_face(face)  # a malformed choice is an error even on a frame without faces
            stages = self._stages_for(self.store.get(persona), swap or SwapOptions())
        t = time.perf_counter()
        decoded = self.reader(source).progressive_at(index, rotate=True)
        rgb = decoded.image.copy()  # the reader caches its frames: never draw into them
        ms = {"decode": (time.perf_counter() - t) * 1000}
        target = None
        if stages is not None:
            t = time.perf_counter()
            target = choose_face(self._analyzer(detector).detect(rgb), face)
            ms["detect"] = (time.perf_counter() - t) * 1000
            if target is not None:
                ms.update(apply_swap(rgb, target, stages[0], stages[1], None))
            if visible_mark:
                draw_mark(rgb, _MARK)
        ms["total"] = (time.perf_counter() - started) * 1000
        return FramePreview(rgb, target, ms)

    def reader(self, source: Path) -> FrameReader:
        """The reader kept open for ``source`` (opened now if it is not): frame count, rotation, seeks.
        Raises ``MediaError`` subclasses for a file that cannot be read."""
        return self._readers.get(source)

    def close(self) -> None:
        """Close the open videos (the previewer can still be used: they open again when asked for)."""
        self._readers.close()

    def _analyzer(self, detector: BlazeFaceRange) -> FaceAnalyzer:
        # the transform job's analysis uses this very analyzer, so landmarks land where the job's would
        if detector not in self._analyzers:
            self._analyzers[detector] = FaceAnalyzer.default(detector_range=detector)
        return self._analyzers[detector]

    def _stages_for(self, persona: Persona, options: SwapOptions) -> tuple[Swapper, Enhancer | None]:
        key = (persona_fingerprint(persona), options.model_dump_json())
        if key in self._stages:
            self._stages.move_to_end(key)
            return self._stages[key]
        built = (
            make_swapper(options, persona, self.store, self.models),
            make_enhancer(options, self.models),
        )
        self._stages[key] = built
        while len(self._stages) > self._max_swappers:
            self._stages.popitem(last=False)
        return built
