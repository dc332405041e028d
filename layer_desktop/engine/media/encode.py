"""Output settings and encoder selection (NVENC when it opens, software otherwise, with the reason).

Encoder options are built by small pure functions so they can be tested without encoding anything.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal, cast

import av
import av.container
from av.video.codeccontext import VideoCodecContext

from layer_desktop.engine.media.domain import check_output_settings
from layer_desktop.errors import EncodeError

log = logging.getLogger(__name__)

Codec = Literal["h264", "hevc"]
FieldOrder = Literal["progressive", "keep"]
SOFTWARE = {"h264": "libx264", "hevc": "libx265"}
HARDWARE = {"h264": "h264_nvenc", "hevc": "hevc_nvenc"}
# x264/x265 preset names mapped onto NVENC's p1 (fastest) .. p7 (slowest).
NVENC_PRESETS = {
    "ultrafast": "p1",
    "superfast": "p1",
    "veryfast": "p2",
    "faster": "p3",
    "fast": "p4",
    "medium": "p5",
    "slow": "p6",
    "slower": "p7",
    "veryslow": "p7",
    "placebo": "p7",
}


@dataclass(frozen=True)
class OutputSettings:
    """How the output video is encoded. Serialisable; the same spec runs locally or remotely."""

    codec: Codec = "h264"
    crf: int = 18
    preset: str = "medium"
    pix_fmt: str = "yuv420p"
    hardware: bool = True  # try NVENC first
    threads: int = 0  # 0 = the encoder decides
    # Interlaced sources: "progressive" deinterlaces every frame (yadif, one frame per frame) and writes
    # progressive video; "keep" encodes interlaced with the source's field order.
    field_order: FieldOrder = "progressive"

    def __post_init__(self) -> None:
        check_output_settings(self.codec, self.crf, self.preset)


@dataclass(frozen=True)
class ColourTags:
    """The source's colour description (FFmpeg enum values), carried to the output unchanged."""

    space: int
    range: int
    primaries: int
    transfer: int

    @classmethod
    def of(cls, stream: av.VideoStream) -> ColourTags:
        cc = stream.codec_context
        return cls(int(cc.colorspace), int(cc.color_range), int(cc.color_primaries), int(cc.color_trc))


@dataclass(frozen=True)
class EncoderChoice:
    name: str
    hardware: bool
    fallback_reason: str | None  # why the hardware encoder was not used, when it was wanted


# Pixel formats that halve the chroma width (and height): frame sizes must be even.
SUBSAMPLED_WIDTH = frozenset({"yuv420p", "yuv422p", "nv12", "yuvj420p", "yuv420p10le", "p010le"})
SUBSAMPLED_HEIGHT = frozenset({"yuv420p", "nv12", "yuvj420p", "yuv420p10le", "p010le"})


def encodable_size(width: int, height: int, pix_fmt: str) -> tuple[int, int]:
    """The frame size to encode a ``width`` × ``height`` picture at in ``pix_fmt``: odd sides that chroma
    subsampling cannot hold are padded by one pixel (right column / bottom row repeated)."""
    w = width + (width % 2 if pix_fmt in SUBSAMPLED_WIDTH else 0)
    h = height + (height % 2 if pix_fmt in SUBSAMPLED_HEIGHT else 0)
    return w, h


# Encoders that can write interlaced video with a chosen field order (``field_order="keep"``).
INTERLACED_ENCODERS = frozenset({"libx264"})


def encoder_options(
    settings: OutputSettings, encoder: str, gop: int, fields: str | None = None
) -> dict[str, str]:
    """The AVOptions for ``encoder`` that realise ``settings`` with a closed GOP of at most ``gop`` frames;
    ``fields`` ("tff"/"bff", libx264 only) encodes interlaced with that field first."""
    if encoder.endswith("_nvenc"):
        return {
            "preset": NVENC_PRESETS.get(settings.preset, "p5"),
            "rc": "vbr",
            "cq": str(settings.crf),
            "b": "0",
            "g": str(gop),
            "forced-idr": "1",
        }
    opts = {"crf": str(settings.crf), "preset": settings.preset}
    if encoder == "libx264":
        opts["x264-params"] = f"keyint={gop}:min-keyint=1:open-gop=0"
        if fields in ("tff", "bff"):
            opts["x264-params"] += f":{fields}=1"
    elif encoder == "libx265":
        opts["x265-params"] = f"keyint={gop}:min-keyint=1:open-gop=0:log-level=error"
    return opts


@functools.lru_cache(maxsize=8)
def _hardware_opens(encoder: str) -> str | None:
    """None when ``encoder`` opens on this machine, else the reason it does not."""
    try:
        codec = av.codec.Codec(encoder, "w")
    except (av.error.FFmpegError, ValueError) as exc:
        return f"{encoder} is not built into this FFmpeg ({exc})"
    # A video encoder (only NVENC names are probed), so its context is a video one.
    ctx = cast(VideoCodecContext, av.codec.CodecContext.create(codec))
    ctx.width, ctx.height, ctx.pix_fmt = 256, 256, "yuv420p"
    ctx.time_base = Fraction(1, 25)
    try:
        ctx.open()
    except av.error.FFmpegError as exc:
        return f"{encoder} did not open: {exc} (no NVIDIA GPU/driver with NVENC)"
    return None


def choose_encoder(settings: OutputSettings) -> EncoderChoice:
    """NVENC when wanted and it opens, else the software encoder; the reason for a fallback is logged."""
    software = SOFTWARE[settings.codec]
    if not settings.hardware:
        return EncoderChoice(software, False, None)
    reason = _hardware_opens(HARDWARE[settings.codec])
    if reason is None:
        return EncoderChoice(HARDWARE[settings.codec], True, None)
    log.info("hardware encoder not used, falling back to %s: %s", software, reason)
    return EncoderChoice(software, False, reason)


def add_video_stream(
    out: av.container.OutputContainer,
    encoder: str,
    settings: OutputSettings,
    *,
    width: int,
    height: int,
    rate: Fraction,
    time_base: Fraction,
    gop: int,
    colour: ColourTags | None = None,
    fields: str | None = None,
) -> av.VideoStream:
    """Add an encoding video stream to ``out``; raises ``EncodeError`` when the encoder refuses."""
    try:
        # ``encoder`` names a video encoder, so the new stream is a video stream.
        stream = cast(av.VideoStream, out.add_stream(encoder, rate=rate))
        stream.width, stream.height, stream.pix_fmt = width, height, settings.pix_fmt
        stream.time_base = time_base
        stream.codec_context.time_base = time_base
        stream.codec_context.gop_size = gop
        if settings.threads:
            stream.codec_context.thread_count = settings.threads
        stream.options = dict(encoder_options(settings, encoder, gop, fields))
        if colour is not None:
            cc = stream.codec_context
            cc.colorspace, cc.color_range = colour.space, colour.range
            cc.color_primaries, cc.color_trc = colour.primaries, colour.transfer
    except (av.error.FFmpegError, ValueError) as exc:
        raise EncodeError(f"The {encoder} encoder cannot be set up for {width}×{height}: {exc}") from exc
    _open_encoder(stream, encoder, settings)
    return stream


def _open_encoder(stream: av.VideoStream, encoder: str, settings: OutputSettings) -> None:
    """Open the encoder now (not at the first frame, deep in the encode thread), so that a setting it
    refuses is an ``EncodeError`` naming the settings."""
    try:
        stream.codec_context.open()
    except (av.error.FFmpegError, ValueError) as exc:
        raise EncodeError(
            f"The {encoder} encoder refused codec {settings.codec}, preset '{settings.preset}', "
            f"CRF {settings.crf}, pixel format {settings.pix_fmt}: {exc}",
            hint="Choose another preset or CRF (or --no-hardware).",
        ) from exc
