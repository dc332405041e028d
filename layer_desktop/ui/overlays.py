"""Face overlays for the viewer: boxes, numbers and landmarks of the faces in the shown frame.

Found on demand (only while overlays are on) by the same analyzer the transform job uses, on the
task manager's heavy worker; newest request wins while scrubbing.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal

from layer_desktop.engine.faces.analyzer import FaceAnalyzer
from layer_desktop.ui.tasks import TaskManager

log = logging.getLogger(__name__)


class FaceOverlays(QObject):
    ready = Signal(object)  # (frame index, list of {"bbox", "track", "landmarks"})

    def __init__(self, tasks: TaskManager, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self.enabled = False
        self._analyzer: FaceAnalyzer | None = None
        self._wanted: tuple[int, np.ndarray] | None = None
        self._in_flight = False

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
        self.tasks.run(lambda: (index, self._faces(rgb)), self._done, self._failed)

    def _faces(self, rgb: np.ndarray) -> list[dict[str, Any]]:
        if self._analyzer is None:
            self._analyzer = FaceAnalyzer.default(detector_range="short")
        faces = self._analyzer.detect(rgb)
        return [
            {
                "bbox": tuple(float(v) for v in f.bbox),
                "track": f.track_id if f.track_id is not None else i + 1,
                "landmarks": None if f.landmarks is None else np.asarray(f.landmarks)[:, :2],
            }
            for i, f in enumerate(faces)
        ]

    def _done(self, result: tuple[int, list[dict[str, Any]]]) -> None:
        self._in_flight = False
        self.ready.emit(result)
        self._next()

    def _failed(self, exc: BaseException) -> None:
        self._in_flight = False
        log.info("face overlays failed: %s", exc)
        self._next()
