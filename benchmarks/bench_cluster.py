"""A transform on one engine vs on a 2-worker Ray cluster on this machine, same run, same clip.

The clip: the kit's talking-astronaut clip looped to 240 frames, scaled to 720 px high and padded to
1280x720; chunks of 60 frames (4 chunks). Prints the wall time of each path, their ratio, and the cluster
path's per-chunk overhead: the cluster's wall time minus the ideal (one-engine render time spread over
the workers), per chunk. On a 2-core machine two workers share the cores the one engine already used, so
the ratio says what the cluster path costs here, not what N GPUs give (see the note it prints).

Usage: python benchmarks/bench_cluster.py [--frames 240] [--workers 2]
"""

from __future__ import annotations

import argparse
import math
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path

import av
import cv2
import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
MEDIA = Path(os.environ.get("LAYER_TEST_MEDIA", REPO.parent / "shared" / "media"))
CLIP = MEDIA / "clips" / "talk_astronaut_4s.mp4"


def make_clip(dst: Path, frames: int) -> None:
    with av.open(str(CLIP)) as inp:
        source = [f.to_ndarray(format="rgb24") for f in inp.decode(video=0)]
    with av.open(str(dst), "w") as out:
        stream = out.add_stream("libx264", rate=25, options={"crf": "18", "preset": "veryfast"})
        stream.width, stream.height, stream.pix_fmt = 1280, 720, "yuv420p"
        for i in range(frames):
            img = cv2.resize(source[i % len(source)], (720, 720), interpolation=cv2.INTER_CUBIC)
            canvas = np.zeros((720, 1280, 3), np.uint8)
            canvas[:, 280:1000] = img
            out.mux(stream.encode(av.VideoFrame.from_ndarray(canvas, format="rgb24")))
        out.mux(stream.encode())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=240)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        os.environ["LAYER_HOME"] = str(work / "home")
        os.environ.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=secrets.token_urlsafe(32))
        import ray

        from layer_desktop.engine.cluster.runner import (
            ClusterOptions,
            run_transform_on_cluster,
            token_from_environment,
        )
        from layer_desktop.engine.personas import PersonaStore
        from layer_desktop.engine.pipeline import TransformSpec, run_transform
        from layer_desktop.engine.pipeline.demo import demo_content, ensure_demo_persona

        store = PersonaStore()
        ensure_demo_persona(store)
        clip = work / "clip720.mp4"
        make_clip(clip, args.frames)

        def spec(name: str) -> TransformSpec:
            return TransformSpec(
                source=str(clip), output=str(work / name), persona=demo_content().persona_name,
                output_settings={"preset": "veryfast", "chunk_frames": 60},
            )  # fmt: skip

        started = time.perf_counter()
        single = run_transform(spec("one.mp4"), store=store)
        one = time.perf_counter() - started
        token_from_environment()  # the token below, not Ray's ~/.ray/auth_token
        ray.init(address="local", num_cpus=args.workers, num_gpus=args.workers, include_dashboard=False,
                 log_to_driver=False)  # fmt: skip
        spans: list[tuple[float, float]] = []
        started = time.perf_counter()
        report = run_transform_on_cluster(
            spec("cluster.mp4"), ClusterOptions(workers=args.workers), store=store,
            on_chunk=lambda r: spans.append((r["started"], r["finished"])),
        )  # fmt: skip
        cluster = time.perf_counter() - started
        ray.shutdown()
    chunks = len(spans)
    chunk_work = sum(b - a for a, b in spans)
    render_share = single.render_seconds
    ideal = single.analysis_seconds + render_share / args.workers
    print(f"{'path':<28}{'wall s':>9}{'ratio':>8}")
    print(f"{'one engine':<28}{one:>9.2f}{1.0:>8.2f}")
    print(f"{f'Ray, {args.workers} workers':<28}{cluster:>9.2f}{cluster / one:>8.2f}")
    print(f"chunks {chunks}; worker time in chunks {chunk_work:.2f} s (one engine: {render_share:.2f} s)")
    print(f"per-chunk overhead of the cluster path: {(cluster - ideal) / max(chunks, 1) * 1000:.0f} ms")
    print(f"  (analysis {single.analysis_seconds:.2f} s on the driver; frames {report.frames})")
    per_chunk = render_share / max(chunks, 1)
    over = max(cluster - ideal, 0.0) / max(chunks, 1)
    for n in (1, 2, 4, 8):
        expected = single.analysis_seconds + math.ceil(chunks / n) * (per_chunk + over)
        print(f"expected with {n} GPU(s), a chunk each at a time: {one / expected:.2f}x one engine")


if __name__ == "__main__":
    main()
