"""The frame index of a video stream: every frame's pts in presentation order and the keyframes' pts.

Built by demuxing once, without decoding. Frame ``i`` of a video is ``pts[i]``.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import av.container

from layer_desktop.engine.media.opening import decode_error
from layer_desktop.errors import CorruptMediaError


@dataclass(frozen=True)
class FrameIndex:
    """Every frame's pts in presentation order, and the pts of the keyframes."""

    pts: tuple[int, ...]
    keyframes: tuple[int, ...]
    time_base: Fraction

    def __len__(self) -> int:
        return len(self.pts)

    def keyframe_before(self, pts: int) -> int:
        """The pts of the last keyframe at or before ``pts`` (the first keyframe if none is)."""
        i = bisect.bisect_right(self.keyframes, pts) - 1
        return self.keyframes[max(i, 0)]


def build_index(container: av.container.InputContainer, stream: av.VideoStream, path: Path) -> FrameIndex:
    """Demux ``stream`` once and collect frame and keyframe timestamps."""
    pts: list[int] = []
    keys: list[int] = []
    try:
        for packet in container.demux(stream):
            if packet.pts is None or packet.size == 0 or packet.is_discard:
                continue
            pts.append(packet.pts)
            if packet.is_keyframe:
                keys.append(packet.pts)
    except av.error.FFmpegError as exc:
        raise decode_error(path, exc, f"packet {len(pts)}") from exc
    if not pts:
        raise CorruptMediaError(f"{path} has a video track without frames.", path=path)
    pts.sort()
    keys.sort()
    if not keys or keys[0] > pts[0]:
        keys.insert(0, pts[0])  # decoding from the start always works
    return FrameIndex(tuple(pts), tuple(keys), stream.time_base or Fraction(1, 1))
