"""The scrub proxy: a reduced-size, all-intra copy of a clip in the cache, for instant frames while the
user drags the playhead. Every proxy frame is a key frame, so any frame is one small decode.

The proxy is built in parts of ``PART_FRAMES`` frames (``part-NNNN.mp4``, each written under a temporary
name and renamed when complete), so an interrupted build resumes at the first missing part. Frame ``i``
of the proxy is frame ``i`` of the source in decode order, upright, scaled to ``PROXY_HEIGHT`` lines.
The proxy is only a preview: renders, review and the stopped playhead always use the source.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import av
import cv2
import numpy as np

from layer_desktop.engine.media.probe import probe
from layer_desktop.engine.media.reader import FrameReader, upright
from layer_desktop.errors import MediaError

log = logging.getLogger(__name__)

PROXY_HEIGHT = 360
PART_FRAMES = 250
ProxyProgress = Callable[[int, int], None]  # (frames done, frames in the clip)


def proxy_key(source: Path) -> str:
    """What the proxy depends on: the file as it is now (path, size, modification time)."""
    st = source.stat()
    return hashlib.sha256(f"{source.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()[:24]


def part_path(folder: Path, part: int) -> Path:
    return folder / f"part-{part:04d}.mp4"


def proxy_size(width: int, height: int, target: int = PROXY_HEIGHT) -> tuple[int, int]:
    """(width, height) scaled to ``target`` lines (never up), both even for yuv420p."""
    if height <= target:
        return width - width % 2, height - height % 2
    w = round(width * target / height)
    return w - w % 2, target


def build_proxy(source: Path, folder: Path, *, progress: ProxyProgress | None = None,
                cancel: threading.Event | None = None, part_frames: int = PART_FRAMES) -> int:  # fmt: skip
    """Build the missing parts of ``source``'s proxy in ``folder``; returns the frame count. Stops quietly
    when ``cancel`` is set (the parts done so far stay). Raises ``MediaError`` for an unreadable clip."""
    info = probe(source)
    if info.video is None:
        raise MediaError(f"{source.name} has no video to scrub.", path=source)
    folder.mkdir(parents=True, exist_ok=True)
    total = info.video.frame_count

    def report(done: int) -> None:
        if progress is not None:
            progress(done, total)

    with av.open(str(source)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        done = _write_parts(
            container.decode(stream), folder, info.video.rotation, part_frames, cancel, report
        )
    report(done)
    return total


def _write_parts(frames: Iterator[av.VideoFrame], folder: Path, rotation: int, part_frames: int,
                 cancel: threading.Event | None, report: Callable[[int], None]) -> int:  # fmt: skip
    writer: _PartWriter | None = None
    done = 0
    try:
        for index, frame in enumerate(frames):
            if cancel is not None and cancel.is_set():
                return done
            part, done = index // part_frames, index + 1
            if part_path(folder, part).is_file():
                continue  # built in an earlier run
            if writer is None or writer.part != part:
                if writer is not None:
                    writer.finish()
                writer = _PartWriter(folder, part)
            writer.add(upright(frame.to_ndarray(format="rgb24"), rotation))
            if done % 25 == 0:
                report(done)
        if writer is not None:
            writer.finish()
            writer = None
        return done
    finally:
        if writer is not None:
            writer.abandon()  # cancelled or failed: a part is only ever kept whole


class _PartWriter:
    def __init__(self, folder: Path, part: int) -> None:
        self.part, self.final = part, part_path(folder, part)
        self.tmp = self.final.with_name(f".{self.final.stem}.partial.mp4")
        self.out = av.open(str(self.tmp), "w")
        self.stream: av.VideoStream | None = None

    def add(self, rgb: np.ndarray) -> None:
        h, w = rgb.shape[:2]
        pw, ph = proxy_size(w, h)
        if self.stream is None:
            self.stream = self.out.add_stream(
                "libx264",
                rate=25,
                options={"g": "1", "preset": "ultrafast", "crf": "23", "tune": "fastdecode"},
            )
            self.stream.width, self.stream.height, self.stream.pix_fmt = pw, ph, "yuv420p"
        small = cv2.resize(rgb, (pw, ph), interpolation=cv2.INTER_AREA) if (pw, ph) != (w, h) else rgb
        self.out.mux(
            self.stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(small), format="rgb24"))
        )

    def finish(self) -> None:
        if self.stream is not None:
            self.out.mux(self.stream.encode(None))
        self.out.close()
        self.tmp.replace(self.final)

    def abandon(self) -> None:
        self.out.close()
        self.tmp.unlink(missing_ok=True)


class ProxyReader:
    """Frames of a built (or partly built) proxy; ``frame_at`` returns None where no part is built yet.
    One reader per thread (it keeps the last part's decoder open)."""

    def __init__(self, folder: Path, part_frames: int = PART_FRAMES) -> None:
        self.folder, self.part_frames = folder, part_frames
        self._part: int | None = None
        self._reader: FrameReader | None = None

    def frame_at(self, index: int) -> np.ndarray | None:
        part, local = divmod(index, self.part_frames)
        if part != self._part:
            self.close()
            path = part_path(self.folder, part)
            if not path.is_file():
                return None
            self._reader, self._part = FrameReader(path, cache_bytes=0, threading_mode="SLICE"), part
        assert self._reader is not None
        if local >= self._reader.frame_count:
            return None
        return self._reader.frame_at(local).image

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
        self._reader, self._part = None, None
