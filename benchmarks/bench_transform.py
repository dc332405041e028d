"""Transform speed at 720p: the `landmark` swap job vs a passthrough render of the same clip, same run.

The clip: the talking-astronaut demo clip scaled to 720 px high and padded to 1280x720 (a face of
about 180-250 px), 100 frames with its audio; or (--clip footage) the generated real-footage clip of
tests/footage.py (1280x720, 250 frames: wide shot, side-lit close-up with a microphone, bystanders,
dissolve back). Prints fps of both, the ratio, the job's stage split,
and the quality metrics (flicker ratio, seam energy ratio) of the output.

Usage: python benchmarks/bench_transform.py [--frames 100] [--preset medium] [--set relight=false ...]
       [--no-watermark]  (run it with and without to see the invisible watermark's cost)
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import av
import cv2
import numpy as np

REPO = Path(__file__).resolve().parent.parent
MEDIA = Path(os.environ.get("LAYER_TEST_MEDIA") or REPO.parent / "shared" / "media")
CLIP = MEDIA / "clips" / "talk_astronaut_4s.mp4"
FACE = MEDIA / "faces" / "grace_hopper.jpg"


def make_720p(dst: Path, frames: int) -> None:
    with av.open(str(CLIP)) as inp, av.open(str(dst), "w") as out:
        stream = out.add_stream("libx264", rate=25, options={"crf": "18", "preset": "veryfast"})
        stream.width, stream.height, stream.pix_fmt = 1280, 720, "yuv420p"
        for i, frame in enumerate(inp.decode(video=0)):
            if i >= frames:
                break
            img = cv2.resize(frame.to_ndarray(format="rgb24"), (720, 720), interpolation=cv2.INTER_CUBIC)
            canvas = np.zeros((720, 1280, 3), np.uint8)
            canvas[:, 280:1000] = img
            out.mux(stream.encode(av.VideoFrame.from_ndarray(canvas, format="rgb24")))
        out.mux(stream.encode(None))


def real_footage(tmp: Path):  # type: ignore[no-untyped-def]  # tests.footage: imported only when asked for
    """The generated real-footage clip (made once into LAYER_FOOTAGE_CACHE when that is set)."""
    sys.path.insert(0, str(REPO))
    from tests.footage import make_footage

    cache = os.environ.get("LAYER_FOOTAGE_CACHE")
    return make_footage(Path(cache) if cache else tmp / "footage")


def detail_energy(frames: list[np.ndarray], masks: list) -> float:
    """Mean Sobel gradient magnitude inside the (binarised) masks: how much texture the face shows."""
    total, n = 0.0, 0
    for f, m in zip(frames, masks, strict=True):
        if m is None:
            continue
        rect, mask = m
        grey = cv2.cvtColor(np.ascontiguousarray(f[rect.slices()]), cv2.COLOR_RGB2GRAY).astype(np.float32)
        mag = np.hypot(cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1))
        total += float(mag[mask > 0.5].sum())
        n += int((mask > 0.5).sum())
    return total / max(n, 1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--frames", type=int, default=100, help="frames of the astronaut clip")
    parser.add_argument(
        "--clip", choices=["astronaut", "footage"], default="astronaut",
        help="footage: the generated real-footage clip (tests/footage.py, 250 frames, 4 shots)",
    )  # fmt: skip
    parser.add_argument("--preset", default="medium")
    parser.add_argument("--set", action="append", default=[], help="swap option k=v (repeatable)")
    parser.add_argument("--keep", type=Path, help="copy the source and output clips into this folder")
    parser.add_argument("--no-watermark", action="store_true", help="leave out the invisible watermark")
    args = parser.parse_args()
    swap = dict(kv.split("=", 1) for kv in args.set)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["LAYER_HOME"] = str(Path(tmp) / "home")
        from layer_desktop.engine.media.encode import OutputSettings
        from layer_desktop.engine.media.render import RenderSpec, render
        from layer_desktop.engine.personas import ConsentInput, FaceInput, PersonaStore, create_persona
        from layer_desktop.engine.pipeline import TransformSpec, load_job, run_transform
        from layer_desktop.engine.pipeline.metrics import flicker, job_masks, seam_energy

        clip = Path(tmp) / "clip720.mp4"
        if args.clip == "footage":
            shutil.copy(real_footage(Path(tmp)).path, clip)
        else:
            make_720p(clip, args.frames)
        store = PersonaStore()
        create_persona(store, "Grace", [FaceInput(FACE)], ConsentInput("Public domain"))
        settings = OutputSettings(preset=args.preset)
        t = time.perf_counter()
        render(RenderSpec(str(clip), str(Path(tmp) / "pass.mp4"), settings, 60))
        passthrough = time.perf_counter() - t
        spec = TransformSpec(
            source=str(clip), output=str(Path(tmp) / "out.mp4"), persona="Grace",
            output_settings={"preset": args.preset, "chunk_frames": 60}, swap=swap,
            disclosure={"watermark": not args.no_watermark},
        )  # fmt: skip
        t = time.perf_counter()
        report = run_transform(spec, store=store)
        total = time.perf_counter() - t
        n = report.frames
        print(
            f"clip: {args.clip} 1280x720, {n} frames, preset {args.preset}, this CPU ({os.cpu_count()} cores)"
        )
        print(f"passthrough render : {passthrough:6.2f} s  {n / passthrough:6.1f} fps")
        print(f"landmark transform : {total:6.2f} s  {n / total:6.1f} fps")
        print(
            f"  face analysis    : {report.analysis_seconds:6.2f} s  {n / report.analysis_seconds:6.1f} fps"
        )
        print(f"  swap + encode    : {report.render_seconds:6.2f} s  {n / report.render_seconds:6.1f} fps")
        print(f"ratio transform / passthrough time: {total / passthrough:.2f}x")
        job = load_job(report.job_dir)
        swap_ms = [r.ms.get("swap", 0.0) for r in job.records if r.applied]
        print(f"swap stage: median {np.median(swap_ms):.1f} ms/frame")
        frame_ms = np.median([r.ms["total"] for r in job.records])
        print(f"frame total (swap, visible mark, watermark when on): median {frame_ms:.1f} ms/frame")
        with av.open(str(clip)) as c:
            src = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
        with av.open(spec.output) as c:
            out = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
        masks = job_masks(job, 1280, 720)
        f_src, f_out = flicker(src, masks), flicker(out, masks)
        s_src = np.nanmean([seam_energy(f, m) for f, m in zip(src, masks, strict=True)])
        s_out = np.nanmean([seam_energy(f, m) for f, m in zip(out, masks, strict=True)])
        print(
            f"flicker in mask: source {f_src:.2f}, output {f_out:.2f}, "
            f"ratio {f_out / f_src:.2f} (target <= 1.3)"
        )
        print(f"seam gradient energy: source {s_src:.1f}, output {s_out:.1f}, ratio {s_out / s_src:.2f}")
        g_src, g_out = detail_energy(src, masks), detail_energy(out, masks)
        print(f"gradient energy in mask: source {g_src:.1f}, output {g_out:.1f}, ratio {g_out / g_src:.2f}")
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            shutil.copy(clip, args.keep / "source.mp4")
            shutil.copy(spec.output, args.keep / "output.mp4")


if __name__ == "__main__":
    main()
