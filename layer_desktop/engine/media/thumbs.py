"""Thumbnail strips for a timeline: N evenly spaced pictures, fast (keyframes only) or exact.

The fast path asks the decoder to skip every non-key frame and seeks once per thumbnail, so a strip of a
long video costs N keyframe decodes; the exact path returns precisely frames ``i * (count / N)``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import av
import av.container
import cv2
import numpy as np

from layer_desktop.engine.media.reader import FrameReader, upright

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Thumbnail:
    index: int  # the frame shown (exact mode) or the keyframe nearest before the wanted one (fast mode)
    time: float
    image: np.ndarray  # RGB uint8, upright


def evenly_spaced(frame_count: int, n: int) -> list[int]:
    """``n`` frame indices spread evenly over ``frame_count`` frames (each the centre of its span)."""
    if frame_count <= 0 or n <= 0:
        return []
    n = min(n, frame_count)
    return [min(frame_count - 1, int((i + 0.5) * frame_count / n)) for i in range(n)]


def _resize(image: np.ndarray, height: int) -> np.ndarray:
    h, w = image.shape[:2]
    if h == height:
        return image
    width = max(1, round(w * height / h))
    return np.asarray(cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA))


def thumbnail_strip(path: str | Path, n: int, *, height: int = 90, exact: bool = False) -> list[Thumbnail]:
    """``n`` thumbnails ``height`` pixels high; ``exact`` decodes the precise frames (slower)."""
    with FrameReader(path, cache_bytes=0) as reader:
        wanted = evenly_spaced(reader.frame_count, n)
        if exact or reader.index.counted:  # a stream without timestamps cannot seek: decode in order
            return [_exact(reader, i, height) for i in wanted]
        return _keyframes(reader, wanted, height)


def _exact(reader: FrameReader, index: int, height: int) -> Thumbnail:
    frame = reader.frame_at(index, rotate=True)
    return Thumbnail(index, frame.time, _resize(frame.image, height))


def _keyframes(reader: FrameReader, wanted: list[int], height: int) -> list[Thumbnail]:
    stream = reader.stream
    # The reader opened the file for reading, so its stream belongs to an input container.
    container = cast(av.container.InputContainer, stream.container)
    stream.codec_context.skip_frame = "NONKEY"
    thumbs: list[Thumbnail] = []
    try:
        for i in wanted:
            container.seek(reader.index.start_before(i)[1], stream=stream, backward=True, any_frame=False)
            frame = next(_frames(container, stream), None)
            if frame is None or frame.pts is None:
                continue
            image = upright(frame.to_ndarray(format="rgb24"), int(frame.rotation))
            shown = reader.index.position(frame.pts)
            shown = i if shown is None or reader.index.counted else shown
            thumbs.append(Thumbnail(shown, reader.time_of(shown), _resize(image, height)))
    finally:
        stream.codec_context.skip_frame = "DEFAULT"
        reader.invalidate_position()
    return thumbs


def _frames(container: av.container.InputContainer, stream: av.VideoStream) -> Iterator[av.VideoFrame]:
    for packet in container.demux(stream):
        yield from packet.decode()
