"""Cost and visibility of the invisible watermark at 720p, against the render's own per-frame
conversion (RGB to YUV for the encoder) as a baseline measured in the same run, best of three runs:
the embed with the mark fixed to the frame, the follower (the mark moves with the picture), the embed
of a moved mark, and detection; PSNR; detection after a CRF 28 re-encode of the marked clip.
Run bench_transform.py with and without --no-watermark for its share of the transform's time.

    .venv/bin/python benchmarks/watermark.py [CLIP]
"""

from __future__ import annotations

import io
import sys
import time
from collections.abc import Callable
from pathlib import Path

import av
import cv2
import numpy as np

from layer_desktop.engine.provenance import watermark as wm
from layer_desktop.engine.provenance.follow import MarkFollower

CLIP = Path(sys.argv[1] if len(sys.argv) > 1 else "resources/demo/talk_astronaut_4s.mp4")
Frame = np.ndarray


def _ms(run: Callable[[], object], n: int) -> float:
    """ms per frame of ``run`` over ``n`` frames, the best of three (the machine may be shared)."""
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - t)
    return best * 1000 / n


def _crf28(frames: list[Frame]) -> list[Frame]:
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as out:
        s = out.add_stream("libx264", rate=25)
        s.width, s.height, s.pix_fmt = frames[0].shape[1], frames[0].shape[0], "yuv420p"
        s.options = {"crf": "28", "preset": "veryfast"}
        for a in frames:
            out.mux(s.encode(av.VideoFrame.from_ndarray(a, format="rgb24")))
        out.mux(s.encode())
    with av.open(io.BytesIO(buf.getvalue())) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


def main() -> None:
    with av.open(str(CLIP)) as c:
        frames = [f for _, f in zip(range(30), c.decode(video=0), strict=False)]
    rgbs = [cv2.resize(f.to_ndarray(format="rgb24"), (1280, 720)) for f in frames]
    # the render's own per-frame conversion of a 720p RGB frame for the encoder
    base = _ms(
        lambda: [av.VideoFrame.from_ndarray(a, format="rgb24").reformat(format="yuv420p") for a in rgbs], 30
    )
    wm.embed(rgbs[0].copy(), 0x1234)  # warm the cached mark plane
    fixed_ms = _ms(lambda: [wm.embed(a.copy(), 0x1234) for a in rgbs], len(rgbs))
    follow = MarkFollower(chunk_frames=60)
    maps = [follow(i, a) for i, a in enumerate(rgbs)]
    follow_ms = _ms(lambda: [f(i, a) for f in [MarkFollower(60)] for i, a in enumerate(rgbs)], len(rgbs))
    moved_ms = _ms(
        lambda: [wm.embed(a.copy(), 0x1234, m) for a, m in zip(rgbs, maps, strict=True)], len(rgbs)
    )
    fixed = [a.copy() for a in rgbs]
    moving = [a.copy() for a in rgbs]
    for a, b, m in zip(fixed, moving, maps, strict=True):
        wm.embed(a, 0x1234)
        wm.embed(b, 0x1234, m)
    detect_ms = _ms(lambda: sum(wm.detect(a).found for a in moving[:10]), 10)
    found = sum(wm.detect(a).found for a in _crf28(moving))
    fixed_found = sum(wm.detect(a).found for a in _crf28(fixed))
    mse = np.mean([(m.astype(np.float64) - a) ** 2 for m, a in zip(moving, rgbs, strict=True)])
    total = follow_ms + moved_ms
    print(f"720p RGB to YUV 4:2:0 conversion (baseline): {base:.1f} ms/frame")
    print(
        f"720p embed, mark fixed to the frame: {fixed_ms:.1f} ms/frame ({fixed_ms / base:.1f}x the baseline)"
    )
    print(f"720p follower: {follow_ms:.1f} ms/frame; embed of the moved mark: {moved_ms:.1f} ms/frame")
    print(f"720p following embed in all: {total:.1f} ms/frame ({total / base:.1f}x the baseline, "
          f"{total / fixed_ms:.1f}x the fixed embed)")  # fmt: skip
    print(f"720p detect: {detect_ms:.0f} ms/frame")
    print(f"after CRF 28: following mark in {found}/30 frames, fixed mark in {fixed_found}/30")
    print(f"PSNR {10 * np.log10(255**2 / mse):.1f} dB")
    Path("benchmarks/out").mkdir(exist_ok=True)
    cv2.imwrite(
        "benchmarks/out/watermark_crop.png",
        np.hstack([rgbs[0][200:456, 500:756], moving[0][200:456, 500:756]])[:, :, ::-1],
    )


if __name__ == "__main__":
    main()
