"""A transform on one engine vs on a 2-worker Ray cluster on this machine, same run, same clip.

Cluster runs: one with the face analysis on the driver (its workers' first chunks show their start-up
cost), then shared folder and object store, both with the analysis split (one range per worker).
The clip: the kit's talking-astronaut clip looped to 240 frames, scaled to 720 px high and padded to
1280x720; chunks of 60 frames (4 chunks). Prints the wall time of each path, their ratio, the cluster
path's per-chunk overhead (scheduling: dispatched → the worker starts; return: the worker ends → the
driver has the chunk), the workers' start-up, and a model for N GPUs from them. On a 2-core machine
two workers share the cores the one engine already used, so the ratio says what the cluster path costs
here, not what N GPUs give (the model says that).

Usage: python benchmarks/bench_cluster.py [--frames 240] [--workers 2]
"""

from __future__ import annotations

import argparse
import math
import os
import secrets
import statistics
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
        runs = {}
        # the first run analyses on the driver: its workers' first chunks show their start-up cost
        for name, transfer, split in (("shared, analysis here", "shared", 10**9), ("shared", "shared", 1),
                                      ("objects", "objects", 1)):  # fmt: skip
            results: list[dict[str, object]] = []
            started = time.perf_counter()
            run_transform_on_cluster(
                spec(f"cluster-{transfer}-{split}.mp4"),
                ClusterOptions(workers=args.workers, transfer=transfer, split_analysis_frames=split),
                store=store, on_chunk=results.append,
            )  # fmt: skip
            runs[name] = (time.perf_counter() - started, results)
        ray.shutdown()
    report(args, one, single, runs)


def _ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:.0f} ms" if values else "-"


def report(args: argparse.Namespace, one: float, single: object, runs: dict[str, tuple[float, list]]) -> None:
    print(f"{'path':<42}{'wall s':>9}{'ratio':>8}")
    print(f"{'one engine':<42}{one:>9.2f}{1.0:>8.2f}")
    for transfer, (wall, _) in runs.items():
        label = f"Ray, {args.workers} workers, {transfer}"
        print(f"{label:<42}{wall:>9.2f}{wall / one:>8.2f}")
    analysis = single.analysis_seconds  # type: ignore[attr-defined]
    render = single.render_seconds  # type: ignore[attr-defined]
    print(f"one engine: analysis {analysis:.2f} s, render {render:.2f} s")
    costs = {}
    for transfer, (_, results) in runs.items():
        first: dict[object, dict] = {}
        later = []
        for r in sorted(results, key=lambda r: r["dispatched"]):
            (later.append(r) if r["worker"] in first else first.setdefault(r["worker"], r))
        sched = [r["started"] - r["dispatched"] for r in later]
        back = [r["adopted"] - r["finished"] for r in results]
        work = [r["finished"] - r["started"] for r in later] or [0.0]
        startup = [r["adopted"] - r["dispatched"] - statistics.median(work) for r in first.values()]
        costs[transfer] = (
            statistics.median(sched or [0.0]) + statistics.median(back),
            statistics.median(startup),
        )
        print(
            f"{transfer}: per chunk scheduling {_ms(sched)}, result + adopt {_ms(back)} (medians); chunk "
            f"work {_ms(work)}; worker start-up (actor, models, job copy) {_ms(startup)}"
        )
    chunks = len(runs["objects"][1])
    per_chunk = render / max(chunks, 1)
    over, startup_s = costs["objects"][0], costs["shared, analysis here"][1]
    print(
        f"model ({chunks} chunks of {per_chunk:.2f} s, {over * 1000:.0f} ms each and "
        f"{startup_s:.1f} s start-up for the cluster):"
    )
    per_analysis = analysis / max(chunks, 1)  # the analysis splits into ranges of the same chunks

    def expected(n: int, c: int) -> float:
        return startup_s + math.ceil(c / n) * (per_analysis + over) + math.ceil(c / n) * (per_chunk + over)

    for n in (1, 2, 4, 8):
        print(
            f"  expected with {n} GPU(s), a chunk each at a time: {one / expected(n, chunks):.2f}x one engine"
        )
    # a 40-minute interview at 25 fps: the same per-frame costs; analysis and render both split
    scale = 40 * 60 * 25 / args.frames
    long_one, long_chunks = (analysis + render) * scale, math.ceil(chunks * scale)
    print(f"a 40-minute video ({long_chunks} chunks, {long_one / 60:.0f} min on one engine):")
    for n in (2, 4, 8, 16):
        print(f"  expected with {n} GPUs: {long_one / expected(n, long_chunks):.2f}x one engine")


if __name__ == "__main__":
    main()
