"""``probe(path)``: what a media file holds, as plain serialisable data.

Frame counts and VFR come from the frame timeline (``index.build_index``), the same one the reader and
the render use, so probe's count is the number of frames that decode. Rotation comes from the first
decoded frame's display matrix, which is where FFmpeg puts both the matrix and the old ``rotate`` tag.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.container

from layer_desktop.engine.media.audio import Damage, audio_frames
from layer_desktop.engine.media.index import build_index
from layer_desktop.engine.media.opening import decode_error, is_still_image, open_input
from layer_desktop.errors import CorruptMediaError, UnsupportedFileError

log = logging.getLogger(__name__)

# Frame intervals that differ by more than this share of the mean make a clip variable-frame-rate...
VFR_TOLERANCE = 0.02
# ...or by more than this, whichever is larger: timestamps rounded to milliseconds (WebM, MKV) step
# 33/34 ms at 30 fps, and 1001-based rates step 3003/3004 ticks.
VFR_ROUNDING_SECONDS = 0.001

COLOR_SPACES = {0: "rgb", 1: "bt709", 2: "unspecified", 5: "bt470bg", 6: "smpte170m", 9: "bt2020nc"}
COLOR_PRIMARIES = {1: "bt709", 2: "unspecified", 5: "bt470bg", 6: "smpte170m", 9: "bt2020"}
COLOR_TRC = {1: "bt709", 2: "unspecified", 6: "smpte170m", 13: "srgb", 16: "smpte2084", 18: "arib-std-b67"}
COLOR_RANGES = {0: "unspecified", 1: "tv", 2: "pc"}


@dataclass(frozen=True)
class VideoInfo:
    codec: str
    width: int
    height: int
    display_width: int
    display_height: int
    rotation: int  # degrees, counter-clockwise, as the display matrix says (-90 = turn 90° clockwise)
    pix_fmt: str
    frame_count: int
    duration: float  # seconds, first frame's start to last frame's end
    start_time: float  # seconds
    avg_fps: float
    avg_rate: str  # exact, e.g. "150000/5953"
    real_rate: str  # FFmpeg's r_frame_rate: the least rate that represents every timestamp
    time_base: str
    vfr: bool
    has_b_frames: bool
    sample_aspect_ratio: str
    color_space: str
    color_primaries: str
    color_transfer: str
    color_range: str


@dataclass(frozen=True)
class AudioInfo:
    codec: str
    sample_rate: int
    channels: int
    layout: str
    duration: float
    start_time: float
    damaged_frames: int = 0  # frames that did not decode (counted only when the duration was decoded)


@dataclass(frozen=True)
class MediaInfo:
    path: str
    container: str
    size_bytes: int
    duration: float
    bit_rate: int
    video: VideoInfo | None
    audio: AudioInfo | None
    audio_tracks: int
    metadata: dict[str, str]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def probe(path: str | Path) -> MediaInfo:
    """Describe ``path``; raises a ``MediaError`` subclass for empty, unreadable, truncated or still files."""
    p = Path(path)
    with open_input(p) as container:
        if is_still_image(container, p):
            raise UnsupportedFileError(f"{p} is a still image, not a video or audio file.", path=p)
        check_complete(container, p)
        video = _video_info(container, p) if container.streams.video else None
        audio = _audio_info(p, container.streams.audio[0].index) if container.streams.audio else None
        if video is None and audio is None:
            raise UnsupportedFileError(f"{p} holds neither video nor audio.", path=p)
        duration = container.duration / av.time_base if container.duration else 0.0
        return MediaInfo(
            path=str(p),
            container=container.format.name,
            size_bytes=p.stat().st_size,
            duration=duration or max(video.duration if video else 0.0, audio.duration if audio else 0.0),
            bit_rate=int(container.bit_rate or 0),
            video=video,
            audio=audio,
            audio_tracks=len(container.streams.audio),
            metadata={str(k): str(v) for k, v in container.metadata.items()},
        )


def check_complete(container: av.container.InputContainer, path: Path) -> None:
    """Raise ``CorruptMediaError`` when the container's index points past the end of the file."""
    size = path.stat().st_size
    for stream in container.streams:
        entries = stream.index_entries
        if entries is None or len(entries) == 0:
            continue
        needed = max(e.pos + e.size for e in entries)
        if needed > size:
            present = sum(1 for e in entries if e.pos + e.size <= size)
            raise CorruptMediaError(
                f"{path} is cut short: it holds {size} of {needed} bytes "
                f"({100 * size // needed}%), {present} of {len(entries)} {stream.type} samples.",
                path=path,
            )


def is_vfr(intervals: list[int], time_base: Fraction = Fraction(1, 90000)) -> bool:
    """True when frame intervals (in ``time_base`` ticks) vary by more than timestamp rounding explains:
    more than ``VFR_TOLERANCE`` of their mean, one tick, and ``VFR_ROUNDING_SECONDS``."""
    if len(intervals) < 2:
        return False
    mean = sum(intervals) / len(intervals)
    allowed = max(VFR_TOLERANCE * mean, 1.0, float(VFR_ROUNDING_SECONDS / time_base))
    return mean > 0 and (max(intervals) - min(intervals)) > allowed


def _first_frame_rotation(container: av.container.InputContainer, stream: av.VideoStream, path: Path) -> int:
    try:
        for frame in container.decode(stream):
            return int(frame.rotation)
    except av.error.FFmpegError as exc:
        raise decode_error(path, exc, "the first frame") from exc
    raise CorruptMediaError(f"{path} has a video track with no decodable frame.", path=path)


def _video_duration(stated: int | None, tb: Fraction, intervals: list[int], from_rate: float) -> float:
    """The container's duration when the timeline agrees with it (within two frames: it also knows how
    long the last frame lasts), else the timeline's (pictures that never decode are not shown)."""
    if not intervals:
        return float(stated * tb) if stated else from_rate
    step = sorted(intervals)[len(intervals) // 2]
    shown = float((sum(intervals) + step) * tb)
    if stated and abs(float(stated * tb) - shown) <= 2 * float(step * tb):
        return float(stated * tb)
    return shown


def _video_info(container: av.container.InputContainer, path: Path) -> VideoInfo:
    stream = container.streams.video[0]
    cc = stream.codec_context
    tb = stream.time_base or Fraction(1, 1)
    rotation = _first_frame_rotation(container, stream, path)
    pts = build_index(path, stream.index).pts
    intervals = [b - a for a, b in itertools.pairwise(pts)]
    frame_count = len(pts)
    avg = stream.average_rate or stream.guessed_rate or Fraction(0, 1)
    duration = _video_duration(stream.duration, tb, intervals, frame_count / float(avg) if avg else 0.0)
    turned = rotation % 180 != 0
    return VideoInfo(
        codec=cc.name,
        width=cc.width,
        height=cc.height,
        display_width=cc.height if turned else cc.width,
        display_height=cc.width if turned else cc.height,
        rotation=rotation,
        pix_fmt=cc.pix_fmt or "unknown",
        frame_count=frame_count,
        duration=duration,
        start_time=float(stream.start_time * tb) if stream.start_time is not None else 0.0,
        avg_fps=float(avg),
        avg_rate=str(avg),
        real_rate=str(stream.base_rate or avg),
        time_base=str(tb),
        vfr=is_vfr(intervals, tb),
        has_b_frames=bool(cc.has_b_frames),
        sample_aspect_ratio=str(cc.sample_aspect_ratio or Fraction(1, 1)),
        color_space=COLOR_SPACES.get(int(cc.colorspace), str(cc.colorspace)),
        color_primaries=COLOR_PRIMARIES.get(int(cc.color_primaries), str(cc.color_primaries)),
        color_transfer=COLOR_TRC.get(int(cc.color_trc), str(cc.color_trc)),
        color_range=COLOR_RANGES.get(int(cc.color_range), str(cc.color_range)),
    )


def _audio_info(path: Path, stream_index: int) -> AudioInfo:
    """The audio track's facts, on an opening of its own; its duration is decoded when the container
    does not state it (AVI with PCM or AC-3, raw streams), skipping frames that do not decode."""
    with open_input(path) as container:
        stream = container.streams[stream_index]
        assert isinstance(stream, av.AudioStream)
        cc = stream.codec_context
        tb = stream.time_base or Fraction(1, cc.sample_rate or 1)
        damage = Damage()
        if stream.duration:
            duration = float(stream.duration * tb)
        else:
            samples = sum(f.samples for f in audio_frames(container, stream, path, damage))
            duration = samples / (cc.sample_rate or 1)
        return AudioInfo(
            codec=cc.name,
            sample_rate=int(cc.sample_rate),
            channels=int(cc.layout.nb_channels),
            layout=cc.layout.name,
            duration=duration,
            start_time=float(stream.start_time * tb) if stream.start_time is not None else 0.0,
            damaged_frames=damage.frames,
        )
