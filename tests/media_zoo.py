"""A zoo of ordinary-but-awkward media files, made with PyAV only (no ffmpeg CLI), as cameras, capture
tools and editors write them: B-frames in MPEG-TS and AVI, packed bitstreams, interlaced MPEG-2, odd
sizes, MJPEG + PCM, edit lists, millisecond timestamps, animated GIF, dropped frames, timestamp wrap.

Every picture is a ``pattern_frame``, so a decoded frame can be told apart from its neighbours.
``make(name, folder)`` writes one file; ``ZOO`` lists them all.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import av.container
import numpy as np

from layer_desktop.engine.media.patterns import pattern_frame

TS_WRAP = 1 << 33  # MPEG-TS timestamps are 33 bits of 1/90000 s


@dataclass(frozen=True)
class Recipe:
    """How one zoo file is written."""

    suffix: str
    codec: str
    frames: int = 48
    width: int = 160
    height: int = 96
    pix_fmt: str = "yuv420p"
    time_base: Fraction = Fraction(1, 25)
    step: int = 1  # pts units per frame
    start: int = 0  # pts of the first frame
    options: dict[str, str] = field(default_factory=dict)
    container_options: dict[str, str] = field(default_factory=dict)
    fmt: str | None = None
    audio: str | None = None  # an audio encoder: a 1 kHz tone alongside
    drop: frozenset[int] = frozenset()  # frame numbers never written (a capture that dropped them)
    interlaced: bool = False
    # Luma-only pictures: the pattern's sharp colour wraps cannot survive 4:2:0 (31 dB for 4:4:4 sources,
    # 21 dB through a 3-3-2 GIF palette) whatever the render does; the PSNR bar measures the render.
    grey: bool = False
    bad_audio_tail: bool = False  # a damaged last audio frame (a capture cut mid-frame)
    cut: int = 0  # video packets left out at the start (a recording begun mid-GOP)
    shown: int | None = None  # frames that decode, when not simply those written
    packed: bool = False  # MPEG-4 part 2 B-frames stored DivX/Xvid "packed" (see ``pack_b_frames``)


X264_B = {"x264-params": "bframes=2:keyint=24:min-keyint=24:scenecut=0", "preset": "veryfast"}

ZOO: dict[str, Recipe] = {
    "ts_bframes": Recipe(".ts", "libx264", time_base=Fraction(1, 90000), step=3600, start=126000,
                         options=X264_B),
    "ts_cut_mid_gop": Recipe(".ts", "libx264", time_base=Fraction(1, 90000), step=3600, start=90000,
                             options=X264_B, cut=5, shown=24),
    "raw_h264": Recipe(".h264", "libx264", options=X264_B, fmt="h264"),
    "avi_packed_b": Recipe(".avi", "mpeg4", options={"bf": "2", "g": "24", "qscale": "3"}, packed=True),
    "avi_h264_b": Recipe(".avi", "libx264", options=X264_B),
    "ts_mpeg2_interlaced": Recipe(".ts", "mpeg2video", width=320, height=192,
                                  options={"bf": "2", "g": "12", "qscale": "3", "flags": "+ildct+ilme",
                                           "top": "1"}, interlaced=True),
    "odd_444": Recipe(".mp4", "libx264", frames=24, width=641, height=361, pix_fmt="yuv444p",
                      options={"preset": "veryfast", "crf": "12"}, grey=True),
    "mjpeg_pcm": Recipe(".avi", "mjpeg", pix_fmt="yuvj420p", options={"qscale": "2"}, audio="pcm_s16le"),
    "edit_list": Recipe(".mp4", "libx264", frames=60, start=-20, options=X264_B),
    "webm_ms": Recipe(".webm", "libvpx", frames=45, time_base=Fraction(1, 30),
                      options={"crf": "10", "b": "1M", "deadline": "realtime", "cpu-used": "8"}),
    "vp9_odd": Recipe(".webm", "libvpx-vp9", frames=24, width=641, height=361, time_base=Fraction(1, 1000),
                      step=40, options={"crf": "12", "b": "0", "deadline": "realtime", "cpu-used": "8"}),
    "gif_anim": Recipe(".gif", "gif", frames=20, pix_fmt="gray", time_base=Fraction(1, 10), grey=True),
    "avi_ac3": Recipe(".avi", "mpeg4", options={"g": "12", "qscale": "3"}, audio="ac3", bad_audio_tail=True),
    "avi_dropped": Recipe(".avi", "mpeg4", options={"g": "12", "qscale": "3"},
                          drop=frozenset({5, 6, 17, 30})),
    "m2ts_wrap": Recipe(".m2ts", "libx264", time_base=Fraction(1, 90000), step=3600,
                        start=TS_WRAP - 3600 * 20, options=X264_B,
                        container_options={"mpegts_m2ts_mode": "1"}, fmt="mpegts", audio="aac"),
}  # fmt: skip


def make(name: str, folder: Path) -> Path:
    """Write zoo file ``name`` into ``folder`` (once) and return its path."""
    recipe = ZOO[name]
    path = folder / f"{name}{recipe.suffix}"
    if not path.exists():
        part = path.with_name(f"{path.stem}.part{path.suffix}")
        _write(recipe, part)
        part.replace(path)
    return path


def _frames(recipe: Recipe) -> Iterator[tuple[int, av.VideoFrame]]:
    pts = recipe.start
    for i in range(recipe.frames):
        if i not in recipe.drop:
            image = pattern_frame(i, recipe.width, recipe.height)
            if recipe.grey:
                image = np.repeat(image.mean(axis=2, keepdims=True), 3, axis=2).astype(np.uint8)
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts, frame.time_base = pts, recipe.time_base
            yield i, frame
        pts += recipe.step


def _write(recipe: Recipe, path: Path) -> None:
    if recipe.packed:
        _write_packed(recipe, path)
        return
    with av.open(str(path), "w", format=recipe.fmt, options=recipe.container_options) as out:
        stream = _video_stream(out, recipe)
        tone = _audio_stream(out, recipe.audio) if recipe.audio else None
        fps = 1 / (recipe.time_base * recipe.step)
        written = 0
        for i, frame in _frames(recipe):
            for packet in stream.encode(frame):
                written += 1
                if written > recipe.cut:
                    out.mux(packet)
            if tone is not None:
                _mux_tone(out, tone, i, fps, recipe.start * recipe.time_base)
        out.mux(stream.encode(None))
        if tone is not None:
            out.mux(tone.encode(None))
            if recipe.bad_audio_tail:
                _mux_garbage(out, tone, recipe)


def _mux_garbage(out: av.container.OutputContainer, stream: av.AudioStream, recipe: Recipe) -> None:
    """An audio packet that starts like an AC-3 frame (sync word) but holds noise: it does not decode."""
    packet = av.Packet(b"\x0b\x77" + bytes(range(200)) * 3)
    end = round(48000 * recipe.frames * recipe.step * recipe.time_base)
    packet.pts = packet.dts = end
    packet.time_base, packet.stream = Fraction(1, 48000), stream
    out.mux(packet)


# Packed B-frames, as Xvid and DivX 5 write AVI: FFmpeg's encoder cannot, so the encoder's packets are
# packed here. AVI has one timestamp per chunk and no reordering, so these encoders put each P-frame
# together with the first B-frame that follows it in decode order into one chunk, the other B-frames in
# their own chunks, and then a 7-byte "not coded" VOP (N-VOP) in the slot where the P-frame is shown.
# The decoder learns of the packing from the DivX user data string ending in "p".
DIVX_PACKED_USER_DATA = b"\x00\x00\x01\xb2DivX503b1393p"
VOP_START = b"\x00\x00\x01\xb6"


def n_vop(time_bits: int, increment: int) -> bytes:
    """A not-coded P-VOP: start code, type P, no modulo time, marker, time increment, marker, coded=0."""
    fields = [(0b01, 2), (0, 1), (1, 1), (increment, time_bits), (1, 1), (0, 1)]
    value, bits = 0, 0
    for v, n in fields:
        value, bits = (value << n) | v, bits + n
    value, bits = (value << 1), bits + 1  # stuffing: a 0, then 1s up to the byte boundary
    while bits % 8:
        value, bits = (value << 1) | 1, bits + 1
    return VOP_START + value.to_bytes(bits // 8, "big")


def pack_b_frames(packets: list[tuple[bytes, bool, int]], time_bits: int) -> list[tuple[bytes, bool]]:
    """Decode-order (data, keyframe, pts) packets → packed AVI chunks (data, keyframe), one per frame."""
    chunks: list[tuple[bytes, bool]] = []
    i = 0
    while i < len(packets):
        data, key, pts = packets[i]
        j = i + 1
        while j < len(packets) and packets[j][2] < pts:  # the B-frames shown before this reference
            j += 1
        if key:
            at = data.find(VOP_START)
            data = data[:at] + DIVX_PACKED_USER_DATA + data[at:]
        b_frames = [p[0] for p in packets[i + 1 : j]]
        if b_frames:
            chunks.append((data + b_frames[0], key))
            chunks.extend((b, False) for b in b_frames[1:])
            chunks.append((n_vop(time_bits, pts % (1 << time_bits)), False))
        else:
            chunks.append((data, key))
        i = j
    return chunks


def _write_packed(recipe: Recipe, path: Path) -> None:
    with av.open(str(path), "w", format=recipe.fmt) as out:
        stream = _video_stream(out, recipe)
        packets = [
            (bytes(p), p.is_keyframe, p.pts or 0) for _, f in _frames(recipe) for p in stream.encode(f)
        ]
        packets += [(bytes(p), p.is_keyframe, p.pts or 0) for p in stream.encode(None)]
        time_bits = max((recipe.time_base.denominator - 1).bit_length(), 1)
        for n, (data, key) in enumerate(pack_b_frames(packets, time_bits)):
            packet = av.Packet(data)
            packet.pts = packet.dts = n
            packet.time_base, packet.stream, packet.is_keyframe = recipe.time_base, stream, key
            out.mux(packet)


def _video_stream(out: av.container.OutputContainer, recipe: Recipe) -> av.VideoStream:
    rate = Fraction(1) / (recipe.time_base * recipe.step)
    stream = out.add_stream(recipe.codec, rate=rate)
    assert isinstance(stream, av.VideoStream)
    stream.width, stream.height, stream.pix_fmt = recipe.width, recipe.height, recipe.pix_fmt
    stream.time_base = recipe.time_base
    stream.codec_context.time_base = recipe.time_base
    stream.options = dict(recipe.options)
    return stream


def _audio_stream(out: av.container.OutputContainer, codec: str) -> av.AudioStream:
    stream = out.add_stream(codec, rate=48000, layout="mono")
    assert isinstance(stream, av.AudioStream)
    return stream


def _mux_tone(
    out: av.container.OutputContainer, stream: av.AudioStream, i: int, fps: Fraction, start: Fraction
) -> None:
    first, last = round(48000 * i / fps), round(48000 * (i + 1) / fps)
    t = np.arange(first, last) / 48000
    samples = (0.3 * 32767 * np.sin(2 * np.pi * 1000 * t)).astype(np.int16)[None, :]
    frame = av.AudioFrame.from_ndarray(samples, format="s16", layout="mono")
    frame.sample_rate = 48000
    frame.pts, frame.time_base = first + round(start * 48000), Fraction(1, 48000)
    out.mux(stream.encode(frame))
