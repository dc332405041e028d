"""Per-frame cost of face detection + landmarks + tracking at 720p, and what tracking saves.

Frames: ``talk_two_faces_4s.mp4`` (two faces) upscaled to 1280x720. Compared in the same run:

- detect every frame: BlazeFace + Face Mesh on each face, every frame;
- tracking (``FaceTracker``, detector every N frames, mesh-only in between, One Euro smoothing).

Then the transform's analysis pass (``analyse_video``: detection, tracking, mesh, shots, signatures) on
the generated real-footage clip (tests/footage.py: a wide shot with a 30-50 px face, cuts, a dissolve)
at 1280x720 and 640x360, per detector: frames per second, and the share of the drawn faces at least
24 px wide that the analysis found (box overlap), against ``short`` measured in the same run.

Run: ``.venv/bin/python benchmarks/bench_faces.py [--frames 120] [--every 5] [--threads 1]
[--analysis-only] [--footage-dir DIR]``
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import av
import cv2
import numpy as np

from layer_desktop.engine.faces import FaceAnalyzer, FaceTracker, TrackerConfig
from layer_desktop.engine.faces.geometry import iou
from layer_desktop.engine.media.reader import FrameReader
from layer_desktop.engine.pipeline.analysis import AnalysisKey, analyse_video

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repo root, for tests.footage

CLIP = Path(__file__).resolve().parents[2] / "shared" / "media" / "clips" / "talk_two_faces_4s.mp4"


def frames_720p(limit: int) -> list[np.ndarray]:
    out = []
    with av.open(str(CLIP)) as container:
        for frame in container.decode(video=0):
            out.append(
                cv2.resize(frame.to_ndarray(format="rgb24"), (1280, 720), interpolation=cv2.INTER_LINEAR)
            )
            if len(out) == limit:
                break
    return out


def time_per_frame(fn, frames: list[np.ndarray]) -> tuple[float, list[float]]:
    times = []
    for f in frames:
        t0 = time.perf_counter()
        fn(f)
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000.0, times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=120)
    parser.add_argument("--every", type=int, default=5, help="tracker: detector every N frames")
    parser.add_argument("--threads", type=int, default=1, help="LiteRT threads per model")
    parser.add_argument("--repeats", type=int, default=3, help="best of N passes over the frames")
    parser.add_argument("--analysis-only", action="store_true", help="only the analysis-pass table")
    parser.add_argument("--footage-dir", type=Path, default=None, help="reuse the generated clip here")
    args = parser.parse_args()
    if not args.analysis_only:
        tracking_table(args)
    analysis_table(args.footage_dir)


def recall(footage, frames, scale: float, min_width: float = 24.0) -> tuple[int, int]:
    """(found, drawn): drawn faces at least ``min_width`` px wide (outside dissolves) that a tracked face
    overlaps."""
    found = drawn = 0
    for truth, faces in zip(footage.frames, frames, strict=True):
        for f in truth.faces:
            box = tuple(v * scale for v in f.box)
            if f.alpha < 1.0 or box[2] - box[0] < min_width:
                continue
            drawn += 1
            found += any(iou(box, g.bbox) >= 0.3 for g in faces)
    return found, drawn


def analysis_table(footage_dir: Path | None) -> None:
    from tests.footage import make_footage

    folder = footage_dir or Path(tempfile.mkdtemp(prefix="bench_footage_"))
    footage = make_footage(folder)
    print("\nanalysis pass on the generated real-footage clip (250 frames; faces >= 24 px found):")
    for path, scale in ((footage.path, 1.0), (footage.small_path, 0.5)):
        base = None
        for detector in ("short", "full", "auto"):
            with tempfile.TemporaryDirectory() as work, FrameReader(path) as reader:
                t0 = time.perf_counter()
                result = analyse_video(reader, Path(work), AnalysisKey(str(path), detector, 60))
                fps = len(result.frames) / (time.perf_counter() - t0)
            found, drawn = recall(footage, result.frames, scale)
            base = base or fps
            print(
                f"  {path.name} {detector:5s}: {fps:6.1f} fps ({fps / base:.2f}x short), "
                f"faces found {found}/{drawn} ({100 * found / max(drawn, 1):.0f}%), shots {len(result.shots)}"
            )


def tracking_table(args: argparse.Namespace) -> None:
    frames = frames_720p(args.frames)
    analyzer = FaceAnalyzer.default(num_threads=args.threads)
    analyzer.detect(frames[0])  # warm-up (XNNPACK delegate set-up)

    detector_only = analyzer.detector
    det_ms = min(time_per_frame(detector_only.detect, frames)[0] for _ in range(args.repeats))
    full_ms = min(time_per_frame(analyzer.detect, frames)[0] for _ in range(args.repeats))

    track_runs = []
    for _ in range(args.repeats):
        tracker = FaceTracker(analyzer, TrackerConfig(detect_every=args.every))
        t0 = time.perf_counter()
        counts = [len(tracker.update(f)) for f in frames]
        track_runs.append(((time.perf_counter() - t0) * 1000.0 / len(frames), counts, tracker.stats))
    track_ms, counts, stats = min(track_runs, key=lambda r: r[0])
    detect_all_mean = min(
        sum(time_per_frame(analyzer.detect, frames)[1]) * 1000.0 / len(frames) for _ in range(args.repeats)
    )

    lines = [
        f"machine: {platform.machine()}, {os.cpu_count()} cores, LiteRT threads={args.threads}",
        f"frames: {len(frames)} x 1280x720 (talk_two_faces_4s upscaled), faces/frame: {sorted(set(counts))}",
        f"BlazeFace short-range detection only       : {det_ms:7.2f} ms/frame (median)",
        f"detection + Face Mesh, every frame         : {full_ms:7.2f} ms/frame median, "
        f"{detect_all_mean:.2f} mean",
        f"tracking (detect every {args.every}, mesh between) : {track_ms:7.2f} ms/frame mean "
        f"({stats.detections} detector runs, {stats.landmark_updates} mesh-only updates, "
        "smoothing, cut check)",
        f"speed-up of tracking over detect-every-frame: {detect_all_mean / track_ms:.2f}x (mean vs mean)",
        f"frames per second with tracking: {1000.0 / track_ms:.0f}",
    ]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
