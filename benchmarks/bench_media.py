"""Media engine speed, as ratios against baselines measured in the same run on the same clip.

1. Passthrough render (our chunk pipeline: decode → identity → chunk encode → join → audio mux)
   ÷ a plain PyAV decode → encode with identical encoder settings.          target ≤ 1.10
2. Random-seek latency of FrameReader.frame_at on a generated 1080p H.264 clip with a 250-frame GOP:
   p50 / p95 in ms, and the same p95 ÷ one sequential frame decode.       target p95 ≤ 80 ms
3. The frame timeline of a generated 720p H.264 MPEG-TS with 2 s GOPs (packets + the first GOPs
   decoded) ÷ decoding the whole stream.                                  target ≤ 0.5
4. The same random seeks on the clip's scrub proxy (what dragging shows).     target p95 ≤ 40 ms

Usage: python benchmarks/bench_media.py [--clip FILE] [--seeks 60] [--repeat 3]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import cv2

from layer_desktop.engine.media.encode import OutputSettings, add_video_stream, choose_encoder
from layer_desktop.engine.media.index import build_index
from layer_desktop.engine.media.patterns import write_pattern_clip
from layer_desktop.engine.media.proxy import ProxyReader, build_proxy
from layer_desktop.engine.media.reader import FrameReader
from layer_desktop.engine.media.render import RenderSpec, render

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CLIP = REPO.parent / "shared" / "media" / "clips" / "talk_astronaut_4s.mp4"


def plain_pyav_transcode(src: Path, dst: Path, settings: OutputSettings, encoder: str) -> None:
    """The baseline: one decode loop feeding one encoder, same settings, audio stream-copied."""
    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        vin = inp.streams.video[0]
        vin.thread_type = "AUTO"
        tb = vin.time_base or Fraction(1, 25)
        vout = add_video_stream(
            out, encoder, settings, width=vin.codec_context.width, height=vin.codec_context.height,
            rate=vin.average_rate or Fraction(25), time_base=tb, gop=250,
        )  # fmt: skip
        ain = inp.streams.audio[0] if inp.streams.audio else None
        aout = out.add_stream_from_template(ain) if ain else None
        streams = [s for s in (vin, ain) if s is not None]
        for packet in inp.demux(*streams):
            if packet.stream is ain and aout is not None:
                if packet.dts is not None:
                    packet.stream = aout
                    out.mux(packet)
                continue
            for frame in packet.decode():
                frame.pict_type = av.video.frame.PictureType.NONE
                out.mux(vout.encode(frame))
        out.mux(vout.encode(None))


def best_of(repeat: int, fn: object) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - t)
    return min(times)


def bench_render(clip: Path, repeat: int, chunk_frames: int) -> None:
    settings = OutputSettings(crf=18, preset="medium", hardware=True)
    encoder = choose_encoder(settings).name
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        counter = iter(range(1000))

        def ours() -> None:
            spec = RenderSpec(str(clip), str(t / "ours.mp4"), settings=settings, chunk_frames=chunk_frames)
            render(spec, work_dir=t / f"work{next(counter)}")  # a fresh work dir: no chunk reuse

        def baseline() -> None:
            plain_pyav_transcode(clip, t / "plain.mp4", settings, encoder)

        baseline()  # warm caches and the encoder probe once
        base = best_of(repeat, baseline)
        our = best_of(repeat, ours)
    with av.open(str(clip)) as c:
        frames = c.streams.video[0].frames
    print(f"render  clip={clip.name} frames={frames} encoder={encoder} chunk_frames={chunk_frames}")
    print(f"        plain PyAV decode->encode : {base:7.3f} s ({frames / base:6.1f} fps)")
    print(f"        our chunked passthrough   : {our:7.3f} s ({frames / our:6.1f} fps)")
    print(f"        ratio ours / plain        : {our / base:7.3f}   (target <= 1.10)")


def bench_seek(seeks: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        clip = Path(tmp) / "seek_1080p.mp4"
        t = time.perf_counter()
        write_pattern_clip(clip, 500, width=1920, height=1080, fps=25, gop=250, bframes=3, preset="veryfast")
        made = time.perf_counter() - t
        for mode in ("AUTO", "SLICE"):
            seek_latency(clip, seeks, mode, made)
        timeline_cost(Path(tmp) / "gops_720p.ts")
        proxy_latency(clip, Path(tmp) / "proxy", seeks)


def timeline_cost(ts: Path) -> None:
    write_pattern_clip(ts, 500, width=1280, height=720, fps=25, gop=50, bframes=3, preset="veryfast")
    t = time.perf_counter()
    with av.open(str(ts)) as c:
        frames = sum(1 for _ in c.decode(video=0))
    full = time.perf_counter() - t
    t = time.perf_counter()
    index = build_index(ts, 0)
    ours = time.perf_counter() - t
    print(f"timeline 720p H.264 MPEG-TS, GOP 50, {frames} frames ({len(index)} on the timeline)")
    print(f"        whole decode              : {full * 1000:7.1f} ms")
    print(f"        build_index               : {ours * 1000:7.1f} ms")
    print(f"        ratio                     : {ours / full:7.3f}   (target <= 0.5)")


def proxy_latency(clip: Path, folder: Path, seeks: int) -> None:
    """Random frames from the scrub proxy (all-intra, 360 lines), scaled back to 1080p as the viewer
    shows them while the playhead is dragged."""
    t = time.perf_counter()
    total = build_proxy(clip, folder)
    built = time.perf_counter() - t
    rng = random.Random(1)
    reader = ProxyReader(folder)
    lat = []
    try:
        for _ in range(seeks):
            i = rng.randrange(total)
            t = time.perf_counter()
            small = reader.frame_at(i)
            assert small is not None
            cv2.resize(small, (1920, 1080), interpolation=cv2.INTER_LINEAR)
            lat.append((time.perf_counter() - t) * 1000)
    finally:
        reader.close()
    lat.sort()
    p95 = lat[min(len(lat) - 1, round(0.95 * (len(lat) - 1)))]
    print(f"proxy   built in {built:.1f} s ({total} frames, all-intra, 360 lines)")
    p50 = statistics.median(lat)
    print(
        f"        random proxy frame p50 / p95: {p50:7.1f} / {p95:.1f} ms over {seeks} seeks, scaled to 1080p"
    )
    print("        (target p95 <= 40 ms; compare with frame_at above, measured in this run)")


def seek_latency(clip: Path, seeks: int, mode: str, made: float) -> None:
    rng = random.Random(1)
    t = time.perf_counter()
    with FrameReader(clip, cache_bytes=0, threading_mode=mode) as reader:
        opened = time.perf_counter() - t
        reader.frame_at(0)
        t = time.perf_counter()
        for i in range(1, 26):
            reader.frame_at(i)
        sequential = (time.perf_counter() - t) / 25
        lat = []
        for _ in range(seeks):
            i = rng.randrange(reader.frame_count)
            t = time.perf_counter()
            reader.frame_at(i)
            lat.append((time.perf_counter() - t) * 1000)
    lat.sort()
    p50 = statistics.median(lat)
    p95 = lat[min(len(lat) - 1, round(0.95 * (len(lat) - 1)))]
    print(f"seek    1080p H.264, 500 frames, GOP 250, B-frames, threads={mode}; clip made in {made:.1f} s,")
    print(f"        opened + indexed          : {opened * 1000:7.1f} ms")
    print(f"        sequential frame          : {sequential * 1000:7.1f} ms")
    print(
        f"        random frame_at p50 / p95 : {p50:7.1f} / {p95:.1f} ms over {seeks} seeks "
        "(target p95 <= 80 ms)"
    )
    print(f"        p95 / sequential frame    : {p95 / (sequential * 1000):7.1f}x")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clip", type=Path, default=DEFAULT_CLIP)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seeks", type=int, default=60)
    ap.add_argument("--chunk-frames", type=int, default=60)
    ap.add_argument("--skip-seek", action="store_true")
    args = ap.parse_args()
    bench_render(args.clip, args.repeat, args.chunk_frames)
    if not args.skip_seek:
        bench_seek(args.seeks)


if __name__ == "__main__":
    main()
