"""The open video as the GUI sees it: probe data, thumbnails, waveform and frames, loaded in the background.

A view-model: it owns the ``FrameReader`` (used only on the task manager's heavy worker), coalesces frame
requests while the user scrubs (only the newest wanted frame is decoded next), and reports results by
signal. It never touches a widget.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal

from layer_desktop.engine.media.audio import extract_audio, waveform_peaks
from layer_desktop.engine.media.probe import MediaInfo, probe
from layer_desktop.engine.media.reader import DecodedFrame, FrameReader
from layer_desktop.engine.media.thumbs import thumbnail_strip
from layer_desktop.errors import NoAudioStreamError
from layer_desktop.ui.tasks import TaskManager

log = logging.getLogger(__name__)

THUMBNAILS = 12
PEAK_BUCKETS = 600


class MediaDocument(QObject):
    opened = Signal(object)  # MediaInfo
    frame_ready = Signal(object)  # DecodedFrame
    thumbnails_ready = Signal(object)  # list[(index, rgb)]
    peaks_ready = Signal(object)  # np.ndarray | None
    failed = Signal(object)  # BaseException

    def __init__(self, tasks: TaskManager, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self.path: Path | None = None
        self.info: MediaInfo | None = None
        self._reader: FrameReader | None = None
        self._in_flight = False
        self._wanted: int | None = None  # the next frame to decode
        self._requested = 0  # the newest frame asked for (decoding or waiting)
        self.current = 0

    @property
    def frame_count(self) -> int:
        return self.info.video.frame_count if self.info and self.info.video else 0

    def open(self, path: Path) -> None:
        """Open ``path`` in the background; emits ``opened`` then the first frame, or ``failed``."""
        self.tasks.run(lambda: self._open(path), self._on_opened, self.failed.emit)

    def _open(self, path: Path) -> tuple[Path, MediaInfo]:
        info = probe(path)
        reader = FrameReader(path, threading_mode="SLICE")
        if self._reader is not None:
            self._reader.close()
        self._reader = reader
        return path, info

    def _on_opened(self, result: tuple[Path, MediaInfo]) -> None:
        self.path, self.info = result
        self.current, self._wanted, self._in_flight, self._requested = 0, None, False, 0
        self.request_frame(0)  # first: a listener of ``opened`` may ask for another frame, and that wins
        self.opened.emit(self.info)
        path = self.path
        self.tasks.run(lambda: _thumbs(path), self.thumbnails_ready.emit, self.failed.emit, heavy=False)
        self.tasks.run(lambda: _peaks(path), self.peaks_ready.emit, self.failed.emit, heavy=False)

    @property
    def requested(self) -> int:
        """The newest frame asked for (being decoded, waiting, or shown)."""
        return self._requested

    def request_frame(self, index: int) -> None:
        """Ask for frame ``index``; while one decodes, only the newest request is kept."""
        if not self.frame_count:
            return
        self._wanted = max(0, min(index, self.frame_count - 1))
        self._requested = self._wanted
        if not self._in_flight:
            self._decode_next()

    def step(self, delta: int) -> None:
        """Move ``delta`` frames from the newest requested frame (steps made while decoding add up)."""
        self.request_frame(self._requested + delta)

    def _decode_next(self) -> None:
        index, reader = self._wanted, self._reader
        if index is None or reader is None:
            return
        self._wanted, self._in_flight = None, True
        self.tasks.run(lambda: reader.frame_at(index, rotate=True), self._on_frame, self._on_frame_error)

    def _on_frame(self, frame: DecodedFrame) -> None:
        self._in_flight = False
        self.current = frame.index
        self.frame_ready.emit(frame)
        self._decode_next()

    def _on_frame_error(self, exc: BaseException) -> None:
        self._in_flight = False
        self.failed.emit(exc)

    def close(self) -> None:
        """Release the decoder (called once the task manager has stopped)."""
        if self._reader is not None:
            self._reader.close()
            self._reader = None


def _thumbs(path: Path) -> list[tuple[int, np.ndarray]]:
    return [(t.index, t.image) for t in thumbnail_strip(path, THUMBNAILS, height=64)]


def _peaks(path: Path) -> np.ndarray | None:
    try:
        pcm = extract_audio(path, 8000)
    except NoAudioStreamError:
        return None
    return waveform_peaks(pcm.mono, PEAK_BUCKETS)
