"""The frame timeline of a video stream: the frames a player shows, in order, and where to seek for each.

Frame ``i`` is the ``i``-th frame the decoder outputs. For containers whose packets carry exact
presentation timestamps (MP4/MOV, Matroska/WebM, NUT) the timeline comes from demuxing alone: the
non-discarded packets' pts, sorted (edit lists mark the packets they cut as discarded). MPEG-TS/M2TS/PS
packets carry presentation times too, but a recording cut mid-GOP starts with pictures that cannot be
decoded: the first GOPs are decoded to find them, and to check that frames and packets correspond one to
one (else the whole stream is decoded). AVI stores decode order only: without reordering it is treated
like a TS; with B-frames (packed or not) the whole stream is decoded once, as is every other container
(GIF, FLV, ...). Dropped frames (empty packets) are never frames. Timelines are kept in memory for the
files opened last, so probe, the reader and the render of one file build it once, and those that took a
whole decode also on disk (``timeline_cache``), so other processes do not decode the file again.

``pts[i]`` is frame ``i``'s presentation time (rising). ``keys[i]`` is the pts the decoder reports for
it, which identifies it after a seek; in AVI that value is a decode-order stamp, not a time.
"""

from __future__ import annotations

import bisect
import contextlib
import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.container

from layer_desktop.engine.media import timeline_cache
from layer_desktop.engine.media.opening import decode_error
from layer_desktop.errors import CorruptMediaError

log = logging.getLogger(__name__)

# Demuxers whose packets carry each frame's exact presentation timestamp.
EXACT_PTS_FORMATS = frozenset({"mov", "mp4", "m4a", "3gp", "3g2", "mj2", "matroska", "webm", "nut"})
# Demuxers whose packets carry presentation timestamps but may start with pictures that do not decode.
HEAD_CHECKED_FORMATS = frozenset({"mpegts", "mpeg"})
HEAD_KEYFRAMES = 3  # GOPs decoded to check the packets against the decoder's frames
CACHED_TIMELINES = 16


@dataclass(frozen=True)
class FrameIndex:
    """The frames of one video stream in presentation order, and the points decoding can start from."""

    pts: tuple[int, ...]  # presentation time of each frame, rising
    keys: tuple[int, ...]  # the pts the decoder reports for each frame (unique)
    starts: tuple[int, ...]  # frame numbers where decoding can start after a seek, rising, starts[0] == 0
    # for each start: the timestamp to seek to: the keyframe's pts where packets carry presentation times,
    # else its dts (a TS seek to a pts lands on the B-frames after the keyframe)
    seek_ts: tuple[int, ...]
    time_base: Fraction
    decoded: bool = False  # True when the timeline was made by decoding the whole stream
    counted: bool = False  # True when frames are known only by their order: decode from the start
    _position: dict[int, int] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._position.update({key: i for i, key in enumerate(self.keys)})

    def __len__(self) -> int:
        return len(self.pts)

    def position(self, key: int | None) -> int | None:
        """The frame number of the decoded frame whose pts is ``key`` (None: not a frame of the timeline)."""
        return None if key is None else self._position.get(key)

    def start_before(self, index: int, *, earlier: int = 0) -> tuple[int, int]:
        """(frame number, seek timestamp) of the last start at or before frame ``index``; ``earlier``
        steps that many starts further back (after a seek that landed too late)."""
        i = max(bisect.bisect_right(self.starts, index) - 1 - earlier, 0)
        return self.starts[i], self.seek_ts[i]


@dataclass
class _Scan:
    """Packets of one demux pass: pts of shown frames, and the keyframes' pts and dts."""

    pts: list[int] = field(default_factory=list)
    key_pts: list[int] = field(default_factory=list)
    key_dts: list[int] = field(default_factory=list)
    exact: bool = True  # every packet had a pts, none repeated
    keys: list[int | None] = field(default_factory=list)  # decoded frames' pts, in output order


_cache: OrderedDict[timeline_cache.CacheKey, FrameIndex] = OrderedDict()
_cache_lock = threading.Lock()


def build_index(
    path: Path, stream_index: int, fresh: av.container.InputContainer | None = None
) -> FrameIndex:
    """The timeline of video stream ``stream_index`` of ``path``. ``fresh``: the caller's container of
    ``path``, standing at the start, which may be demuxed to its end for the packet scan (saves an
    opening); without it, and for every decoding pass, the file is opened again.

    Raises ``CorruptMediaError`` when the stream has no frame or cannot be read to its end.
    """
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns, stream_index)
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    index = _stored(key)
    if index is None:
        index = _build(path, stream_index, fresh)
        if index.decoded:  # the others are quick to build again
            timeline_cache.save(key, _to_json(index))
    with _cache_lock:
        _cache[key] = index
        while len(_cache) > CACHED_TIMELINES:
            _cache.popitem(last=False)
    return index


def _to_json(index: FrameIndex) -> dict[str, Any]:
    tb = index.time_base
    return {"pts": index.pts, "keys": index.keys, "starts": index.starts, "seek_ts": index.seek_ts,
            "time_base": [tb.numerator, tb.denominator], "counted": index.counted}  # fmt: skip


def _stored(key: timeline_cache.CacheKey) -> FrameIndex | None:
    data = timeline_cache.load(key)
    if data is None:
        return None
    try:
        return FrameIndex(
            tuple(data["pts"]), tuple(data["keys"]), tuple(data["starts"]), tuple(data["seek_ts"]),
            Fraction(*data["time_base"]), decoded=True, counted=bool(data["counted"]),
        )  # fmt: skip
    except (KeyError, TypeError, ValueError, ZeroDivisionError) as exc:
        log.warning("ignoring a damaged timeline cache entry for %s: %s", key[0], exc)
        return None


def _kind(names: set[str], stream: av.VideoStream) -> str:
    """How to build the timeline: "exact" (packet pts), "head" (packet pts, checked by decoding the first
    GOPs) or "decode" (decode the whole stream)."""
    if names & EXACT_PTS_FORMATS:
        return "exact"
    if names & HEAD_CHECKED_FORMATS:
        return "head"
    if "avi" in names and not stream.codec_context.has_b_frames:
        return "head"  # AVI stores decode order: only without reordering is that the order shown
    return "decode"


def _build(path: Path, stream_index: int, fresh: av.container.InputContainer | None) -> FrameIndex:
    with contextlib.ExitStack() as stack:
        container = fresh or stack.enter_context(av.open(str(path), metadata_errors="ignore"))
        stream = container.streams[stream_index]
        assert isinstance(stream, av.VideoStream)
        tb = stream.time_base or Fraction(1, 1)
        rate = stream.average_rate or stream.guessed_rate or Fraction(25, 1)
        kind = _kind(set(container.format.name.split(",")), stream)
        if kind == "decode" and fresh is not None:  # the caller's decoder stays untouched
            container = stack.enter_context(av.open(str(path), metadata_errors="ignore"))
            stream = container.streams[stream_index]
            assert isinstance(stream, av.VideoStream)
        if kind == "decode":
            stream.thread_type = "AUTO"
        scan = _scan(container, stream, path, decode=kind == "decode")
    if kind != "decode" and scan.exact and scan.pts:
        shown = set(scan.pts) if kind == "exact" else _head_checked(path, stream_index, scan)
        if shown is not None:
            pts = sorted(shown)
            # MP4/MKV seek by presentation time to the keyframe at or before it (as they always did);
            # TS/PS/AVI by decode time (a TS seek to a pts lands on the B-frames after the keyframe).
            seek = scan.key_pts if kind == "exact" else scan.key_dts
            starts, seek_ts = _starts(pts, scan.key_pts, seek, {p: i for i, p in enumerate(pts)})
            return FrameIndex(tuple(pts), tuple(pts), starts, seek_ts, tb)
    if kind != "decode":  # the packets do not tell: decode after all
        log.info("%s: decoding the whole video stream to build its frame timeline", path)
        with av.open(str(path), metadata_errors="ignore") as container:
            stream = container.streams[stream_index]
            assert isinstance(stream, av.VideoStream)
            stream.thread_type = "AUTO"
            scan = _scan(container, stream, path, decode=True)
    return _from_decoded(scan.keys, scan, tb, path, rate)


def _head_checked(path: Path, stream_index: int, scan: _Scan) -> set[int] | None:
    """The packet pts that become shown frames, found by decoding the first ``HEAD_KEYFRAMES`` GOPs:
    pictures before the first decodable one (a recording cut mid-GOP, open-GOP B-frames) do not.
    None when the decoder's frames are not the packets one to one in rising pts, anywhere in that head
    (fields in separate packets, reordering in AVI): then only decoding everything tells."""
    fed: set[int] = set()
    decoded: list[int | None] = []
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            stream = container.streams[stream_index]
            assert isinstance(stream, av.VideoStream)
            stream.thread_type = "AUTO"
            keyframes = 0
            for packet in container.demux(stream):
                if packet.size == 0:
                    continue
                keyframes += packet.is_keyframe
                if keyframes > HEAD_KEYFRAMES:
                    break
                if packet.pts is not None and not packet.is_discard:
                    fed.add(packet.pts)
                decoded.extend(f.pts for f in packet.decode())
            decoded.extend(f.pts for f in stream.codec_context.decode(None))
    except av.error.FFmpegError:
        return None
    known = [k for k in decoded if k is not None]
    if not known or len(known) != len(decoded) or known != sorted(set(known)) or not set(known) <= fed:
        return None
    missing = fed - set(known)
    if any(m > known[0] for m in missing):
        return None
    return set(scan.pts) - missing


def _scan(
    container: av.container.InputContainer, stream: av.VideoStream, path: Path, *, decode: bool
) -> _Scan:
    """One demux pass; with ``decode`` also the pts of every frame the decoder outputs, in output order."""
    scan = _Scan()
    seen: set[int] = set()
    try:
        for packet in container.demux(stream):
            if decode:
                scan.keys.extend(frame.pts for frame in packet.decode())
            if packet.size == 0:
                continue
            if packet.is_keyframe and packet.pts is not None:
                # also a keyframe an edit list hides: decoding the first shown frame starts there
                scan.key_pts.append(packet.pts)
                scan.key_dts.append(packet.dts if packet.dts is not None else packet.pts)
            if packet.is_discard:
                continue
            if packet.pts is None or packet.pts in seen:
                scan.exact = False
            else:
                seen.add(packet.pts)
                scan.pts.append(packet.pts)
    except av.error.FFmpegError as exc:
        raise decode_error(path, exc, f"packet {len(scan.pts)}") from exc
    return scan


def _from_decoded(
    keys: list[int | None], scan: _Scan, tb: Fraction, path: Path, rate: Fraction
) -> FrameIndex:
    if not keys:
        raise CorruptMediaError(f"{path} has a video track with no decodable frame.", path=path)
    known = [k for k in keys if k is not None]
    if len(known) != len(keys) or len(set(known)) != len(known):
        # The decoder does not tell its frames apart: count them, and always decode from the start.
        log.info("%s: frames without distinct timestamps; seeking decodes from the start", path)
        n, step = len(keys), max(round(1 / (rate * tb)), 1)  # times at the stream's average rate
        times = tuple(i * step for i in range(n))
        return FrameIndex(times, tuple(range(n)), (0,), (0,), tb, decoded=True, counted=True)
    unique = [k for k in keys if k is not None]
    pts = sorted(unique)  # the decoder's output order is presentation order; the times are these, sorted
    position = {k: i for i, k in enumerate(unique)}
    starts, seek_ts = _starts(unique, scan.key_pts, scan.key_dts, position)
    return FrameIndex(tuple(pts), tuple(unique), starts, seek_ts, tb, decoded=True)


def _starts(
    keys: list[int], key_pts: list[int], key_dts: list[int], position: dict[int, int]
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Seek points: each keyframe packet that became a shown frame, as (frame number, seek timestamp)."""
    points = {0: min(key_dts, default=keys[0])}  # decoding from the very start always works
    for kp, kd in zip(key_pts, key_dts, strict=True):
        at = position.get(kp)
        if at is not None and at > 0:
            points[at] = min(points.get(at, kd), kd)
    ordered = sorted(points.items())
    return tuple(p for p, _ in ordered), tuple(ts for _, ts in ordered)
