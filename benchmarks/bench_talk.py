"""Talking heads: how fast the offline animator makes video, and how soon the first preview frame comes.

For a square 512x512 and a 1280x720 output of the kit's astronaut photo saying an ~8 s script:
seconds of video per second of compute for the whole ``render_talk`` (speech, face, frames, encode,
mux, C2PA) and for the frames alone; the time to the first preview frame (speech + face + frame 0).
Baseline in the same run: encoding the still itself for as many frames with the same encoder (what any
talking head costs at least), so the animator's own share shows as a ratio.

Run: ``.venv/bin/python benchmarks/bench_talk.py [--sizes 512,1280x720]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av

from layer_desktop.engine.media.encode import OutputSettings, add_video_stream, choose_encoder
from layer_desktop.engine.talking.render import prepare_talk, render_talk
from layer_desktop.engine.talking.spec import TalkSpec

ROOT = Path(__file__).resolve().parents[1]
MEDIA = Path(os.environ.get("LAYER_TEST_MEDIA") or ROOT.parent / "shared" / "media")
PHOTO = MEDIA / "faces" / "astronaut.png"
SCRIPT = (
    "Meet the bamboo water bottle. It keeps your drinks cold for a whole day, it weighs almost nothing, "
    "and every bottle plants a tree."
)


def encode_still(still, frames: int, path: Path) -> float:  # type: ignore[no-untyped-def]
    """Seconds to encode ``still`` ``frames`` times (the baseline)."""
    settings = OutputSettings(preset="veryfast")
    h, w = still.shape[:2]
    t0 = time.perf_counter()
    with av.open(str(path), "w", format="mp4") as out:
        stream = add_video_stream(out, choose_encoder(settings).name, settings, width=w, height=h,
                                  rate=Fraction(25), time_base=Fraction(1, 25), gop=250)  # fmt: skip
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(still, format="rgb24")
            frame.pts = i
            for p in stream.encode(frame):
                out.mux(p)
        for p in stream.encode(None):
            out.mux(p)
    return time.perf_counter() - t0


def run(size: str, tmp: Path) -> None:
    spec = TalkSpec(photo=str(PHOTO), script=SCRIPT, size=size, output=str(tmp / f"talk-{size}.mp4"))
    t0 = time.perf_counter()
    animator = prepare_talk(spec, tmp / f"prep-{size}")
    animator.frame(0)
    first = time.perf_counter() - t0
    times = []
    for i in range(animator.frames):
        t = time.perf_counter()
        animator.frame(i)
        times.append(time.perf_counter() - t)
    frames_s = sum(times)
    t0 = time.perf_counter()
    report = render_talk(spec, work_dir=tmp / f"work-{size}")
    whole = time.perf_counter() - t0
    base = encode_still(animator.portrait.rgb, animator.frames, tmp / f"still-{size}.mp4")
    video = report.frames / 25
    h, w = animator.portrait.rgb.shape[:2]
    print(f"{w}x{h}: {report.frames} frames ({video:.2f} s of video)")
    print(f"  first preview frame     {first:6.2f} s (speech + face + frame 0)")
    print(f"  frames alone            {video / frames_s:6.2f} x real time "
          f"({statistics.median(times) * 1000:.1f} ms/frame median)")  # fmt: skip
    print(f"  whole render_talk       {video / whole:6.2f} x real time ({whole:.2f} s, {report.encoder})")
    print(f"  baseline: encode still  {video / base:6.2f} x real time ({base:.2f} s); "
          f"render / baseline = {whole / base:.2f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="512,1280x720")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-talk-") as folder:
        os.environ["LAYER_HOME"] = str(Path(folder) / "home")  # the signing identity goes there
        for size in args.sizes.split(","):
            run(size, Path(folder))


if __name__ == "__main__":
    main()
