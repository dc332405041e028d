"""Self-identifying test clips: every frame shows its own index as a pattern of black/white blocks.

Used by the tests and benchmarks to prove frame accuracy (decode a frame, read the blocks, compare),
and by ``layer`` for a quick encoder check. The pattern survives lossy coding: each bit is a large block.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

BITS = 16  # up to 65535 frames
GRID = (4, 4)  # rows x cols of bit blocks; the band uses the top half of the frame


def pattern_frame(index: int, width: int, height: int) -> np.ndarray:
    """An RGB frame whose top half encodes ``index`` in 16 blocks; the bottom half is a moving gradient."""
    img = np.empty((height, width, 3), np.uint8)
    rows, cols = GRID
    band = height // 2
    bh, bw = band // rows, width // cols
    for bit in range(BITS):
        r, c = divmod(bit, cols)
        value = 235 if (index >> bit) & 1 else 20
        img[r * bh : (r + 1) * bh, c * bw : (c + 1) * bw] = value
    img[rows * bh : band] = 128
    y = np.arange(height - band, dtype=np.int32)[:, None]
    x = np.arange(width, dtype=np.int32)[None, :]
    img[band:, :, 0] = ((x + 3 * index) % 256).astype(np.uint8)
    img[band:, :, 1] = ((y + 2 * index) % 256).astype(np.uint8)
    img[band:, :, 2] = ((x + y + index) % 256).astype(np.uint8)
    return img


def read_pattern(rgb: np.ndarray) -> int:
    """The index a ``pattern_frame`` encodes, read from the block centres."""
    height, width = rgb.shape[:2]
    rows, cols = GRID
    bh, bw = (height // 2) // rows, width // cols
    value = 0
    for bit in range(BITS):
        r, c = divmod(bit, cols)
        centre = rgb[r * bh + bh // 4 : (r + 1) * bh - bh // 4, c * bw + bw // 4 : (c + 1) * bw - bw // 4]
        if float(centre.mean()) > 128:
            value |= 1 << bit
    return value


def write_pattern_clip(
    path: Path,
    frames: int,
    *,
    width: int = 256,
    height: int = 128,
    fps: int = 25,
    gop: int = 250,
    bframes: int = 3,
    crf: int = 23,
    preset: str = "veryfast",
    intervals: Sequence[int] | None = None,
    start_pts: int = 0,
) -> Path:
    """Encode a pattern clip with libx264 (B-frames, long GOP). ``intervals`` (in 1/90000 s) makes it VFR."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        tb = Fraction(1, 90000) if intervals else Fraction(1, fps * 512)
        stream.time_base = tb
        stream.codec_context.time_base = tb
        stream.codec_context.gop_size = gop
        stream.options = {
            "crf": str(crf),
            "preset": preset,
            "x264-params": f"keyint={gop}:min-keyint={gop}:scenecut=0:bframes={bframes}:b-pyramid=normal",
        }
        pts = start_pts
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(pattern_frame(i, width, height), format="rgb24")
            frame.pts, frame.time_base = pts, tb
            pts += intervals[i % len(intervals)] if intervals else 512
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path
