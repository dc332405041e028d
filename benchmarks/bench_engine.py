"""Preview latency through the engine service vs the same preview in-process, measured in one run.

The clips: the demo clip (the talking astronaut) three times over, scaled and padded to 1280x720 and
1920x1080, a keyframe every 50 frames (2 s, typical of camera and editor exports). For each size:

- in-process: ``PreviewService.render`` (decode, detect, landmark swap, mark, JPEG) on a fresh service
- engine: the same requests through ``EngineClient.preview`` to a local engine child process (warm)

for forward scrubbing (consecutive frames) and for jumps (random frames), every request a cache miss.
Prints p50/p95 of both, the API overhead (engine minus in-process, and the ratio), and the round trip of
a cache hit (the API's own cost: HTTP, token check, JSON, the JPEG bytes).

Usage: python benchmarks/bench_engine.py [--frames 40] [--sizes 720,1080]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import av
import cv2
import numpy as np

SIZES = {720: (1280, 720), 1080: (1920, 1080)}


def make_clip(dst: Path, size: tuple[int, int], repeats: int = 3) -> int:
    from layer_desktop.engine.pipeline.demo import demo_content

    width, height = size
    with av.open(str(demo_content().clip)) as inp:
        frames = [f.to_ndarray(format="rgb24") for f in inp.decode(video=0)]
    with av.open(str(dst), "w") as out:
        stream = out.add_stream("libx264", rate=25, options={"crf": "18", "preset": "veryfast", "g": "50"})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for img in frames * repeats:
            face = cv2.resize(img, (height, height), interpolation=cv2.INTER_CUBIC)
            canvas = np.zeros((height, width, 3), np.uint8)
            x0 = (width - height) // 2
            canvas[:, x0 : x0 + height] = face
            out.mux(stream.encode(av.VideoFrame.from_ndarray(canvas, format="rgb24")))
        out.mux(stream.encode(None))
    return len(frames) * repeats


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95


def timed(call: Callable[[int], object], frames: list[int]) -> list[float]:
    out = []
    for f in frames:
        t = time.perf_counter()
        call(f)
        out.append((time.perf_counter() - t) * 1000)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=40, help="requests per access pattern")
    ap.add_argument("--sizes", default="720,1080")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench_engine_"))
    os.environ["LAYER_HOME"] = str(tmp / "home")

    from layer_desktop.engine.local import LocalEngine
    from layer_desktop.engine.personas import PersonaStore
    from layer_desktop.engine.pipeline.demo import ensure_demo_persona
    from layer_desktop.engine.server.home import EngineHome
    from layer_desktop.engine.server.preview import PreviewService
    from layer_desktop.engine.server.schemas import PreviewRequest

    store = PersonaStore()
    persona = ensure_demo_persona(store)
    engine = LocalEngine(EngineHome(tmp / "engine"), allowed_roots=[tmp])
    engine.start()
    client = engine.client()
    try:
        print(f"{'clip':>6} {'access':>10} {'in-process p50/p95':>20} {'engine p50/p95':>16} "
              f"{'overhead p50':>13} {'ratio':>6}")  # fmt: skip
        for height in [int(s) for s in args.sizes.split(",")]:
            clip = tmp / f"clip_{height}.mp4"
            count = make_clip(clip, SIZES[height])
            media = client.link(clip).media_id
            rng = random.Random(height)
            patterns = {
                "forward": list(range(1, 1 + args.frames)),
                "jumps": [rng.randrange(count) for _ in range(args.frames)],
            }

            def request(frame: int, *, feather: float = 0.12, media: str = media) -> PreviewRequest:
                return PreviewRequest.model_validate(
                    {"media": media, "frame": frame, "persona": persona.id, "swap": {"feather": feather}}
                )

            local = PreviewService(store)
            local.render(clip, request(0))  # warm: reader open, swapper built
            client.preview(request(0))
            for name, frames in patterns.items():
                # a different setting per pattern keeps every request a cache miss on both sides
                feather = 0.10 if name == "forward" else 0.14
                ours = timed(
                    lambda f, fe=feather, s=local, c=clip: s.render(c, request(f, feather=fe)), frames
                )
                api = timed(lambda f, fe=feather: client.preview(request(f, feather=fe)), frames)
                (a50, a95), (b50, b95) = percentiles(ours), percentiles(api)
                print(f"{height:>5}p {name:>10} {a50:>9.1f} / {a95:<8.1f} {b50:>7.1f} / {b95:<7.1f} "
                      f"{b50 - a50:>+10.1f} ms {b50 / a50:>5.2f}x")  # fmt: skip
            recent = patterns["jumps"][-20:]  # still in the engine's cache (it keeps the last 64 previews)
            hits = timed(lambda f: client.preview(request(f, feather=0.14)), recent)
            h50, h95 = percentiles(hits)
            print(f"{height:>5}p {'cache hit':>10} {'':>20} {h50:>7.1f} / {h95:<7.1f}  (API round trip)")
            local.close()
    finally:
        client.close()
        engine.stop()


if __name__ == "__main__":
    main()
