"""Streaming decode → process → encode with bounded queues, so the three stages overlap.

One decode thread feeds frames of the chunks still to do; the caller's thread runs the processing step;
one encode thread writes each chunk to its own file and reports it finished. Queues are bounded, so
memory stays flat however long the video. The first error in any stage stops all three and is raised
in the caller's thread; finished chunks stay finished.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Protocol, TypeVar

import av
import av.container
import numpy as np

from layer_desktop.engine.hashing import sha256_file
from layer_desktop.engine.media.chunks import ChunkRecord, chunk_file_name
from layer_desktop.engine.media.encode import ColourTags, OutputSettings, add_video_stream
from layer_desktop.engine.media.reader import FrameReader
from layer_desktop.errors import EncodeError, EngineError

log = logging.getLogger(__name__)

QUEUE_FRAMES = 8

_T = TypeVar("_T")
# A queue item: a frame and its index, or None after the last frame.
_Item = tuple[int, av.VideoFrame] | None


class FrameProcessor(Protocol):
    """A processing step: gets each source frame, returns a new RGB image, a new frame, or None.

    None leaves the frame unchanged.
    """

    tag: str

    def __call__(self, index: int, frame: av.VideoFrame) -> np.ndarray | av.VideoFrame | None: ...


class Passthrough:
    """The identity step: every frame is encoded as decoded."""

    tag = "passthrough"

    def __call__(self, index: int, frame: av.VideoFrame) -> None:
        return None


@dataclass(frozen=True)
class ChunkJob:
    index: int
    start: int
    stop: int


@dataclass(frozen=True)
class EncodeTarget:
    work_dir: Path
    encoder: str
    settings: OutputSettings
    width: int
    height: int
    rate: Fraction
    time_base: Fraction
    first_pts: int  # the source pts that becomes output pts 0
    processor_tag: str
    colour: ColourTags | None = None
    fields: str | None = None  # "tff"/"bff": encode interlaced with that field first; None: progressive


class _Stop(Exception):
    """Another stage failed or the render was cancelled."""


def _put(q: queue.Queue[_T], item: _T, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            q.put(item, timeout=0.1)
            return
        except queue.Full:
            continue
    raise _Stop


def _get(q: queue.Queue[_T], stop: threading.Event) -> _T:
    while not stop.is_set():
        try:
            return q.get(timeout=0.1)
        except queue.Empty:
            continue
    raise _Stop


def _runs(jobs: list[ChunkJob]) -> Iterator[tuple[int, int]]:
    """Merge consecutive chunks into frame runs, so the decoder seeks only where a gap is."""
    run: list[int] | None = None
    for job in jobs:
        if run is not None and job.start == run[1]:
            run[1] = job.stop
            continue
        if run is not None:
            yield run[0], run[1]
        run = [job.start, job.stop]
    if run is not None:
        yield run[0], run[1]


class ChunkWriter:
    """Encodes frames into one file per chunk; a chunk becomes visible only once complete and hashed."""

    def __init__(self, target: EncodeTarget, on_done: Callable[[ChunkRecord], None]) -> None:
        self.target = target
        self.on_done = on_done
        self._job: ChunkJob | None = None
        self._out: av.container.OutputContainer | None = None
        self._stream: av.VideoStream | None = None
        self._part: Path | None = None
        self._packets = 0

    def write(self, job: ChunkJob, index: int, frame: av.VideoFrame) -> None:
        if self._job is None or self._job.index != job.index:
            self._open(job)
        assert self._stream is not None and self._out is not None
        assert frame.pts is not None  # every decoded frame the reader yields has a pts
        if (frame.width, frame.height) != (self.target.width, self.target.height):
            frame = padded(frame, self.target.width, self.target.height)
        assert frame.pts is not None
        frame.pts -= self.target.first_pts
        frame.time_base = self.target.time_base
        frame.pict_type = av.video.frame.PictureType.NONE  # let the encoder choose (no stray forced IDRs)
        self._mux(self._stream.encode(frame))
        if index == job.stop - 1:
            self._finish()

    def abort(self) -> None:
        if self._out is not None:
            with contextlib.suppress(av.error.FFmpegError):
                self._out.close()
        if self._part is not None:
            self._part.unlink(missing_ok=True)
        self._out = self._stream = self._part = self._job = None

    def _open(self, job: ChunkJob) -> None:
        self.abort()
        t = self.target
        self._part = t.work_dir / (chunk_file_name(job.index) + ".part")
        self._out = av.open(str(self._part), "w", format="nut")
        self._stream = add_video_stream(
            self._out, t.encoder, t.settings, width=t.width, height=t.height, rate=t.rate,
            time_base=t.time_base, gop=job.stop - job.start, colour=t.colour, fields=t.fields,
        )  # fmt: skip
        self._job, self._packets = job, 0

    def _mux(self, packets: list[av.Packet[av.VideoStream]]) -> None:
        assert self._out is not None
        for packet in packets:
            self._out.mux(packet)
            self._packets += 1

    def _finish(self) -> None:
        assert self._stream is not None and self._out is not None and self._part and self._job
        self._mux(self._stream.encode(None))
        self._out.close()
        final = self._part.with_suffix("")
        self._part.replace(final)
        job, packets = self._job, self._packets
        self._out = self._stream = self._part = self._job = None
        if packets != job.stop - job.start:
            raise EncodeError(f"chunk {job.index}: {packets} packets for {job.stop - job.start} frames")
        record = ChunkRecord(
            index=job.index, start=job.start, stop=job.stop, file=final.name, sha256=sha256_file(final),
            size=final.stat().st_size, packets=packets, processor=self.target.processor_tag,
        )  # fmt: skip
        self.on_done(record)


def padded(frame: av.VideoFrame, width: int, height: int) -> av.VideoFrame:
    """``frame`` grown to ``width`` × ``height`` by repeating its last column and row (odd sizes)."""
    image = frame.to_ndarray(format="rgb24")
    grow = ((0, height - frame.height), (0, width - frame.width), (0, 0))
    grown: np.ndarray = np.pad(image, grow, mode="edge").astype(np.uint8, copy=False)
    out = av.VideoFrame.from_ndarray(grown, format="rgb24")
    out.pts, out.time_base = frame.pts, frame.time_base
    return out


def _as_frame(result: np.ndarray | av.VideoFrame | None, source: av.VideoFrame) -> av.VideoFrame:
    if result is None:
        return source
    frame = (
        result if isinstance(result, av.VideoFrame) else av.VideoFrame.from_ndarray(result, format="rgb24")
    )
    frame.pts, frame.time_base = source.pts, source.time_base
    return frame


class Pipeline:
    """Runs the chunk jobs of one render through decode → process → encode."""

    def __init__(
        self,
        reader: FrameReader,
        processor: FrameProcessor,
        writer: ChunkWriter,
        *,
        progress: Callable[[int], None] | None = None,
        cancel: threading.Event | None = None,
        deinterlace: bool = False,
    ) -> None:
        """``deinterlace``: the processing step and the encoder get progressive frames (yadif)."""
        self.reader, self.processor, self.writer = reader, processor, writer
        self.deinterlace = deinterlace
        self.progress = progress
        self.cancel = cancel or threading.Event()
        self._stop = threading.Event()
        self._errors: list[BaseException] = []
        self._decoded: queue.Queue[_Item] = queue.Queue(QUEUE_FRAMES)
        self._processed: queue.Queue[_Item] = queue.Queue(QUEUE_FRAMES)

    def run(self, jobs: list[ChunkJob]) -> None:
        """Encode every job's frames; raises the first error of any stage."""
        threads = [
            threading.Thread(target=self._guard, args=(self._decode, jobs), name="layer-decode"),
            threading.Thread(target=self._guard, args=(self._encode, jobs), name="layer-encode"),
        ]
        for t in threads:
            t.start()
        try:
            self._guard(self._process)
        finally:
            for t in threads:
                t.join()
            if self._errors:
                self.writer.abort()
        if self._errors:
            raise self._errors[0]

    def _guard(self, stage: Callable[..., None], *args: object) -> None:
        try:
            stage(*args)
        except _Stop:
            pass
        except BaseException as exc:
            self._errors.append(exc)
            self._stop.set()

    def _decode(self, jobs: list[ChunkJob]) -> None:
        frames = self.reader.iter_progressive if self.deinterlace else self.reader.iter_frames
        for start, stop in _runs(jobs):
            for index, frame in frames(start, stop):
                _put(self._decoded, (index, frame), self._stop)
        _put(self._decoded, None, self._stop)

    def _process(self) -> None:
        done = 0
        while (item := _get(self._decoded, self._stop)) is not None:
            if self.cancel.is_set():
                raise RenderCancelled("The render was cancelled; finished chunks are kept for a resume.")
            index, frame = item
            _put(self._processed, (index, _as_frame(self.processor(index, frame), frame)), self._stop)
            done += 1
            if self.progress is not None:
                self.progress(done)
        _put(self._processed, None, self._stop)

    def _encode(self, jobs: list[ChunkJob]) -> None:
        by_frame = {j.start: j for j in jobs}
        job: ChunkJob | None = None
        while (item := _get(self._processed, self._stop)) is not None:
            index, frame = item
            job = by_frame.get(index, job)
            assert job is not None and job.start <= index < job.stop
            self.writer.write(job, index, frame)


class RenderCancelled(EngineError):
    default_hint = "Start the render again: finished chunks are reused."
