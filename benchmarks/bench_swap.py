"""Per-face cost of the landmark swap at 720p: the default (relight + occlusion check) against the
plain path (Lab mean/std colour match, no occlusion check), timed interleaved in the same run.

The frame: the kit's astronaut photo scaled into a 1280x720 frame with a face of about --face px.

Usage: python benchmarks/bench_swap.py [--face 200] [--rounds 30]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parent.parent
FACES = REPO.parent / "shared" / "media" / "faces"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--face", type=int, default=200, help="face width in pixels")
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    from layer_desktop.engine.faces import FaceAnalyzer, head_pose, load_image
    from layer_desktop.engine.swap import LandmarkSwapper, PersonaFace, SwapOptions

    analyzer = FaceAnalyzer.default()
    photo = load_image(FACES / "astronaut.png")
    scale = args.face / 106.0  # the astronaut's face is about 106 px wide in the photo
    big = cv2.resize(photo, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    frame = np.zeros((720, 1280, 3), np.uint8)
    h, w = min(720, big.shape[0]), min(1280, big.shape[1])
    frame[:h, :w] = big[:h, :w]
    face = analyzer.detect_one(frame)
    grace = load_image(FACES / "grace_hopper.jpg")
    pf = analyzer.detect_one(grace)
    persona = [PersonaFace(grace, pf, 1.0, head_pose(pf))]
    configs = {
        "plain (reinhard, no occlusion)": SwapOptions(relight=False, occlusion="none"),
        "relight, no occlusion": SwapOptions(occlusion="none"),
        "default (relight + occlusion)": SwapOptions(),
    }
    swappers = {name: LandmarkSwapper(persona, opts) for name, opts in configs.items()}
    times: dict[str, list[float]] = {name: [] for name in configs}
    for _ in range(args.rounds):
        for name, swapper in swappers.items():
            img = frame.copy()
            t = time.perf_counter()
            swapper.swap(img, face)
            times[name].append((time.perf_counter() - t) * 1000)
    base = float(np.median(times["plain (reinhard, no occlusion)"]))
    print(f"face {face.width:.0f} px at 1280x720, {args.rounds} rounds, median ms per face:")
    for name, ts in times.items():
        med = float(np.median(ts))
        print(f"  {name:32s} {med:6.1f} ms  ({med / base:.2f}x plain)")


if __name__ == "__main__":
    main()
