"""The open video as the GUI sees it: probe data, thumbnails, waveform and frames, loaded in the background.

A view-model: it owns the ``FrameReader`` (used only on the task manager's heavy worker), coalesces frame
requests while the user scrubs (only the newest wanted frame is decoded next), and reports results by
signal. It never touches a widget.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import cv2
import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from layer_desktop.engine.media.audio import extract_audio, waveform_peaks
from layer_desktop.engine.media.probe import MediaInfo, probe
from layer_desktop.engine.media.proxy import ProxyReader
from layer_desktop.engine.media.reader import DecodedFrame, FrameReader
from layer_desktop.engine.media.thumbs import thumbnail_strip
from layer_desktop.errors import NoAudioStreamError
from layer_desktop.ui.tasks import TaskManager

log = logging.getLogger(__name__)

THUMBNAILS = 12
PEAK_BUCKETS = 600
SETTLE_MS = 150  # the playhead has stopped when no frame was asked for this long


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
        self._reader_lock = threading.Lock()  # one decode at a time; a reader is closed only outside it
        self._in_flight = False
        self._wanted: int | None = None  # the next frame to decode
        self._requested = 0  # the newest frame asked for (decoding or waiting)
        self._wanted_fast = False
        self.current = 0
        self.proxy_folder: Path | None = None  # the scrub proxy, when there is one
        self._proxy: ProxyReader | None = None  # used on the heavy worker only, like the reader
        self._size: tuple[int, int] | None = None  # (width, height) of the upright source frames
        self._fps = 25.0
        self.shown_proxy = False  # the last frame shown came from the proxy (the exact one follows)
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(SETTLE_MS)
        self._settle.timeout.connect(lambda: self.request_frame(self._requested))

    @property
    def frame_count(self) -> int:
        return self.info.video.frame_count if self.info and self.info.video else 0

    def open(self, path: Path) -> None:
        """Open ``path`` in the background; emits ``opened`` then the first frame, or ``failed``."""
        self.tasks.run(lambda: self._open(path), self._on_opened, self.failed.emit)

    def _open(self, path: Path) -> tuple[Path, MediaInfo]:
        info = probe(path)
        reader = FrameReader(path, threading_mode="SLICE")
        # a frame of the previous file may be decoding on another worker: swap under the lock that job
        # holds, then close the old decoder (a job that starts later sees it is stale and skips it)
        with self._reader_lock:
            old, self._reader = self._reader, reader
        if old is not None:
            old.close()
        return path, info

    def _on_opened(self, result: tuple[Path, MediaInfo]) -> None:
        self.path, self.info = result
        self._size = None
        video = self.info.video
        self._fps = float(video.avg_fps) if video is not None and video.avg_fps else 25.0
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

    def request_frame(self, index: int, *, fast: bool = False) -> None:
        """Ask for frame ``index``; while one decodes, only the newest request is kept. ``fast`` (while
        the playhead is dragged): the scrub proxy's frame when it has one, the exact frame once the
        playhead has rested for ``SETTLE_MS``."""
        if not self.frame_count:
            return
        self._settle.stop()
        self._wanted_fast = fast and self.proxy_folder is not None
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
        fast = self._wanted_fast
        self.tasks.run(lambda: self._decode(reader, index, fast), self._on_frame, self._on_frame_error)

    def _decode(self, reader: FrameReader, index: int, fast: bool) -> tuple[DecodedFrame, bool] | None:
        """(frame, from the proxy?), or None when another file was opened since the request."""
        with self._reader_lock:
            if reader is not self._reader:
                return None
            if fast:
                return self._proxy_frame(reader, index)
            return reader.frame_at(index, rotate=True), False

    def _proxy_frame(self, reader: FrameReader, index: int) -> tuple[DecodedFrame, bool]:
        """(frame, from the proxy?): the proxy's frame scaled to the source's size, else the exact one."""
        folder, size = self.proxy_folder, self._size
        if folder is not None and size is not None:
            if self._proxy is None or self._proxy.folder != folder:
                self._proxy = ProxyReader(folder)
            small = self._proxy.frame_at(index)
            if small is not None:
                image = cv2.resize(small, size, interpolation=cv2.INTER_LINEAR)
                return DecodedFrame(index, -1, index / self._fps, image), True
        return reader.frame_at(index, rotate=True), False

    def _on_frame(self, result: tuple[DecodedFrame, bool] | None) -> None:
        if result is None:
            return  # a request for the previous file: the new file's first frame is on its way
        frame, self.shown_proxy = result
        self._in_flight = False
        self.current = frame.index
        if not self.shown_proxy:
            self._size = (frame.image.shape[1], frame.image.shape[0])
        self.frame_ready.emit(frame)
        self._decode_next()
        if self.shown_proxy and self._wanted is None:
            self._settle.start()  # the playhead rests: the exact frame replaces the proxy's

    def _on_frame_error(self, exc: BaseException) -> None:
        self._in_flight = False
        self.failed.emit(exc)

    def close(self) -> None:
        """Release the decoder (called once the task manager has stopped)."""
        with self._reader_lock:
            old, self._reader = self._reader, None
        if old is not None:
            old.close()
        self._settle.stop()
        if self._proxy is not None:
            self._proxy.close()
            self._proxy = None


def _thumbs(path: Path) -> list[tuple[int, np.ndarray]]:
    return [(t.index, t.image) for t in thumbnail_strip(path, THUMBNAILS, height=64)]


def _peaks(path: Path) -> np.ndarray | None:
    try:
        pcm = extract_audio(path, 8000)
    except NoAudioStreamError:
        return None
    return waveform_peaks(pcm.mono, PEAK_BUCKETS)
