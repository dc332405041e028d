"""Cost and visibility of the invisible watermark at 720p: embed ms/frame against the render's own
per-frame conversion (RGB decode) as a baseline measured in the same run, detection ms/frame, PSNR.

    .venv/bin/python benchmarks/watermark.py [CLIP]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import av
import cv2
import numpy as np

from layer_desktop.engine.provenance import watermark as wm

CLIP = Path(sys.argv[1] if len(sys.argv) > 1 else "resources/demo/talk_astronaut_4s.mp4")


def main() -> None:
    with av.open(str(CLIP)) as c:
        frames = [f for _, f in zip(range(30), c.decode(video=0), strict=False)]
    t = time.perf_counter()
    rgbs = [cv2.resize(f.to_ndarray(format="rgb24"), (1280, 720)) for f in frames]
    t = time.perf_counter()
    for f in frames:
        f.to_ndarray(format="rgb24")
    base = (time.perf_counter() - t) * 1000 / len(frames)
    marked = [a.copy() for a in rgbs]
    wm.embed(marked[0], 0x1234)  # warm the cached mark plane
    t = time.perf_counter()
    for a in marked[1:]:
        wm.embed(a, 0x1234)
    embed_ms = (time.perf_counter() - t) * 1000 / (len(marked) - 1)
    t = time.perf_counter()
    found = sum(wm.detect(a).found for a in marked[:10])
    detect_ms = (time.perf_counter() - t) * 1000 / 10
    mse = np.mean([(m.astype(np.float64) - a) ** 2 for m, a in zip(marked, rgbs, strict=True)])
    print(f"720p embed: {embed_ms:.1f} ms/frame ({embed_ms / base:.1f}x the RGB conversion, {base:.1f} ms)")
    print(f"720p detect: {detect_ms:.0f} ms/frame, found in {found}/10")
    print(f"PSNR {10 * np.log10(255**2 / mse):.1f} dB")
    cv2.imwrite(
        "benchmarks/out/watermark_crop.png",
        np.hstack([rgbs[0][200:456, 500:756], marked[0][200:456, 500:756]])[:, :, ::-1],
    )


if __name__ == "__main__":
    main()
