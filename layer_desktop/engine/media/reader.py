"""Frame-accurate random access: ``FrameReader.frame_at(i)`` returns exactly frame ``i``.

Frame ``i`` is the ``i``-th frame of the stream's timeline (``index.FrameIndex``: the frames the decoder
outputs, in order). To reach it we seek to the last keyframe at or before it and decode forward until the
decoder reports frame ``i``'s pts; when the decoder already stands in the same GOP before it, we just
decode on (the sequential path). This holds with B-frames (also packed, or in AVI), variable frame rate,
edit lists, TS timestamp wrap and a non-zero start time. Frames come out with ``pts`` set to their
presentation time on the timeline.
"""

from __future__ import annotations

import bisect
import logging
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from types import TracebackType

import av
import av.container
import numpy as np

from layer_desktop.engine.media.deinterlace import context_run, deinterlaced
from layer_desktop.engine.media.index import build_index
from layer_desktop.engine.media.opening import decode_error, open_input, video_stream
from layer_desktop.engine.media.probe import check_complete
from layer_desktop.errors import CorruptMediaError, FrameOutOfRangeError

log = logging.getLogger(__name__)

DEFAULT_CACHE_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class DecodedFrame:
    index: int
    pts: int
    time: float  # seconds from the stream's first frame
    image: np.ndarray  # RGB uint8 (H, W, 3)


def upright(image: np.ndarray, rotation: int) -> np.ndarray:
    """A coded frame turned the way it is shown (``rotation``: the display matrix, degrees CCW)."""
    return np.ascontiguousarray(np.rot90(image, k=rotation // 90)) if rotation else image


def coded(image: np.ndarray, rotation: int) -> np.ndarray:
    """The inverse of ``upright``: a shown image turned back to the coded orientation."""
    return np.ascontiguousarray(np.rot90(image, k=-(rotation // 90))) if rotation else image


class FrameReader:
    """Random and sequential access to the frames of one video file. Not for use by two threads at once.

    Use as a context manager, or call ``close()``.
    """

    def __init__(
        self, path: str | Path, *, cache_bytes: int = DEFAULT_CACHE_BYTES, threading_mode: str = "AUTO"
    ) -> None:
        """Open ``path``; ``threading_mode`` is FFmpeg's: "AUTO" (frame threads, best for long sequential
        runs such as a render) or "SLICE" (lower latency for scattered random access)."""
        self.path = Path(path)
        self._open = open_input(self.path)
        self._container = self._open.__enter__()
        try:
            self._stream = video_stream(self._container, self.path)
            check_complete(self._container, self.path)
            self._threading_mode = threading_mode
            self._stream.thread_type = threading_mode
            self.index = build_index(self.path, self._stream.index, self._container)
        except BaseException:
            self.close()
            raise
        self._rotation: int | None = None
        self._fields: str | None = None  # "progressive", "tff" or "bff": how frame 0 is coded
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self._cache_bytes = cache_bytes
        self._cached = 0
        self._frames: Iterator[av.VideoFrame] | None = None
        self._last_pos: int | None = None  # the frame number the decoder gave last
        self._ordinal = 0  # frames decoded since the last reopen (timelines known only by order)
        self._target = 0
        self._lock = threading.Lock()
        self.seeks = 0  # how many seeks were needed (tests and benchmarks read this)

    # ---------------------------------------------------------------- life cycle
    def __enter__(self) -> FrameReader:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._frames = None
        self._open.__exit__(None, None, None)

    # ---------------------------------------------------------------- facts
    @property
    def frame_count(self) -> int:
        return len(self.index)

    @property
    def stream(self) -> av.VideoStream:
        return self._stream

    @property
    def end_pts(self) -> int | None:
        """Where the last frame ends, from the container (None when it does not say)."""
        stream = self._stream
        if stream.duration is None:
            return None
        return int((stream.start_time or 0) + stream.duration)

    @property
    def has_audio(self) -> bool:
        return bool(self._container.streams.audio)

    @property
    def rotation(self) -> int:
        """Display rotation in degrees (counter-clockwise, as in the display matrix)."""
        if self._rotation is None:
            with self._lock:
                self._rotation = int(self._decode_exact(0).rotation)
        return self._rotation

    @property
    def field_order(self) -> str:
        """How the video is coded, from its first frame: "progressive", "tff" or "bff" (interlaced with
        the top or the bottom field first)."""
        if self._fields is None:
            # FFmpeg's AVFieldOrder, as probing the stream found it: 1 progressive, 2/4 (TT, TB) top field
            # first, 3/5 (BB, BT) bottom field first, 0 unknown: then the first frame says.
            order = int(self._stream.codec_context.field_order or 0)
            if order == 0:
                with self._lock:
                    interlaced = bool(self._decode_exact(0).interlaced_frame)
                order = int(self._stream.codec_context.field_order or 0) or (2 if interlaced else 1)
            self._fields = {1: "progressive", 3: "bff", 5: "bff"}.get(order, "tff")
        return self._fields

    @property
    def interlaced(self) -> bool:
        return self.field_order != "progressive"

    def time_of(self, index: int) -> float:
        return float((self.index.pts[index] - self.index.pts[0]) * self.index.time_base)

    # ---------------------------------------------------------------- random access
    def frame_at(self, index: int, *, rotate: bool = False) -> DecodedFrame:
        """Exactly frame ``index`` (0-based, presentation order) as RGB.

        ``rotate`` applies the display matrix.

        Raises ``FrameOutOfRangeError`` for an index outside the video, ``CorruptMediaError`` when the
        file cannot be decoded up to that frame.
        """
        self.check_index(index)
        with self._lock:
            image = self._cache.get(index)
            if image is None:
                frame = self._decode_exact(index)
                self._rotation = int(frame.rotation)
                image = frame.to_ndarray(format="rgb24")
                self._remember(index, image)
            else:
                self._cache.move_to_end(index)
        if rotate:
            image = upright(image, self.rotation)
        return DecodedFrame(index, self.index.pts[index], self.time_of(index), image)

    def progressive_at(self, index: int, *, rotate: bool = False) -> DecodedFrame:
        """Frame ``index`` as shown after deinterlacing (as the analysis and the default render see it);
        the same as ``frame_at`` for a progressive video. Raises as ``frame_at``."""
        if not self.interlaced:
            return self.frame_at(index, rotate=rotate)
        self.check_index(index)
        ((_, frame),) = list(self.iter_progressive(index, index + 1))
        image = frame.to_ndarray(format="rgb24")
        if rotate:
            image = upright(image, self.rotation)
        return DecodedFrame(index, self.index.pts[index], self.time_of(index), image)

    def frame_at_time(self, seconds: float, *, rotate: bool = False) -> DecodedFrame:
        """The frame shown ``seconds`` after the first frame."""
        target = self.index.pts[0] + round(Fraction(seconds) / self.index.time_base)
        return self.frame_at(max(bisect.bisect_right(self.index.pts, target) - 1, 0), rotate=rotate)

    def iter_frames(self, start: int = 0, stop: int | None = None) -> Iterator[tuple[int, av.VideoFrame]]:
        """Decoded frames ``start`` .. ``stop - 1`` in order, as PyAV frames (no colour conversion)."""
        stop = self.frame_count if stop is None else stop
        if start >= stop:
            return
        self.check_index(start)
        self.check_index(stop - 1)
        with self._lock:
            first = self._decode_exact(start)
            yield start, first
            for index in range(start + 1, stop):
                try:
                    frame = self._next_matching(index)
                except _Overshot:
                    frame = self._decode_exact(index)  # the decoder skipped it: seek back for it
                yield index, frame

    def iter_upright(self, start: int = 0, stop: int | None = None) -> Iterator[tuple[int, np.ndarray]]:
        """Frames ``start`` .. ``stop - 1`` in order as RGB, turned the way they are shown, and
        deinterlaced when the video is interlaced (for analysis: face detection sees no combing)."""
        rotation = self.rotation
        for index, frame in self.iter_progressive(start, stop):
            yield index, upright(frame.to_ndarray(format="rgb24"), rotation)

    def iter_progressive(
        self, start: int = 0, stop: int | None = None
    ) -> Iterator[tuple[int, av.VideoFrame]]:
        """Like ``iter_frames``, deinterlaced (yadif, one frame per frame) when the video is interlaced."""
        stop = self.frame_count if stop is None else stop
        if not self.interlaced:
            yield from self.iter_frames(start, stop)
            return
        lo, hi = context_run(start, stop, self.frame_count)
        for index, frame in deinterlaced(self.iter_frames(lo, hi)):
            if start <= index < stop:
                yield index, frame

    def invalidate_position(self) -> None:
        """Forget where the decoder stands (after someone else moved the container)."""
        self._frames = None
        self._last_pos = None

    # ---------------------------------------------------------------- internals
    def check_index(self, index: int) -> None:
        if not 0 <= index < self.frame_count:
            raise FrameOutOfRangeError(
                f"Frame {index} is outside {self.path.name}, which has frames 0 to {self.frame_count - 1}.",
                path=self.path,
            )

    def _decode_exact(self, index: int) -> av.VideoFrame:
        start, ts = self.index.start_before(index)
        sequential = self._last_pos is not None and start <= self._last_pos < index
        if self.index.counted:
            if not sequential:
                self._reopen()
            return self._next_matching(index)
        if not sequential:
            self._seek(ts)
        for earlier in range(1, 4):
            try:
                return self._next_matching(index)
            except _Overshot:
                # The demuxer landed after the seek point (TS seeks by bisection): try a start further back.
                start, ts = self.index.start_before(index, earlier=earlier)
                log.debug("overshot frame %d in %s; seeking to frame %d", index, self.path, start)
                if start == 0:
                    break
                self._seek(ts)
        self._reopen()
        try:
            return self._next_matching(index)
        except _Overshot:
            raise CorruptMediaError(
                f"{self.path} is missing frame {index}: the file is damaged.", path=self.path
            ) from None

    def _seek(self, ts: int) -> None:
        self.seeks += 1
        self._container.seek(ts, stream=self._stream, backward=True, any_frame=False)
        self._frames = self._decode_iter()
        self._last_pos = None

    def _reopen(self) -> None:
        """Decode from the first byte again: a fresh demuxer (seeking to the start is not exact in all)."""
        self.seeks += 1
        self._frames = None
        self._open.__exit__(None, None, None)
        self._open = open_input(self.path)
        self._container = self._open.__enter__()
        self._stream = video_stream(self._container, self.path)
        self._stream.thread_type = self._threading_mode
        self._frames = self._decode_iter()
        self._last_pos = None
        self._ordinal = 0

    def _decode_iter(self) -> Iterator[av.VideoFrame]:
        # Frames before the target that no other frame refers to need not be decoded at all: skipping
        # them roughly halves the work of a seek with B-frames, and the target itself is never skipped.
        # Only where packet pts are presentation times (not in AVI, where they count in decode order).
        ctx = self._stream.codec_context
        ctx.skip_frame = "DEFAULT"
        may_skip = not self.index.decoded
        skipping = False
        for packet in self._container.demux(self._stream):
            skip = may_skip and packet.pts is not None and packet.pts < self._target
            if skip != skipping:
                ctx.skip_frame = "NONREF" if skip else "DEFAULT"
                skipping = skip
            yield from packet.decode()

    def _position_of(self, frame: av.VideoFrame) -> int | None:
        if self.index.counted:
            self._ordinal += 1
            return self._ordinal - 1
        return self.index.position(frame.pts)

    def _next_matching(self, index: int) -> av.VideoFrame:
        self._target = self.index.pts[index]
        if self._frames is None:
            self._seek(self.index.start_before(index)[1])
        assert self._frames is not None
        try:
            for frame in self._frames:
                pos = self._position_of(frame)
                if pos is None:
                    continue  # a picture the timeline does not show (undecodable leading frames)
                self._last_pos = pos
                if pos == index:
                    frame.pts, frame.time_base = self.index.pts[index], self.index.time_base
                    return frame
                if pos > index:
                    self._frames = None
                    raise _Overshot
        except av.error.FFmpegError as exc:
            self._frames = None
            raise decode_error(self.path, exc, f"frame {index}") from exc
        self._frames = None
        raise CorruptMediaError(
            f"{self.path} ends before frame {index}: the file is damaged or cut short.", path=self.path
        )

    def _remember(self, index: int, image: np.ndarray) -> None:
        self._cache[index] = image
        self._cached += image.nbytes
        while self._cached > self._cache_bytes and len(self._cache) > 1:
            _, old = self._cache.popitem(last=False)
            self._cached -= old.nbytes


class _Overshot(Exception):
    """Decoding passed the wanted pts without meeting it."""
