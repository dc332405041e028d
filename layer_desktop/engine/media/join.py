"""Join finished chunks by stream copy and mux the audio, with exact timestamps and A/V alignment.

Chunk files keep packets exactly but their muxer may shift all timestamps of a chunk by a constant
(to keep dts non-negative); we know every frame's exact output pts from the source index, so each chunk
is moved back by that constant. Audio is shifted by the same start offset as the video, so whatever
lined up in the source lines up in the output. The output is written under a temporary name and renamed
only when complete.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.container
from av.stream import Stream

from layer_desktop.engine.media.audio import Damage, audio_frames
from layer_desktop.engine.media.opening import audio_stream, open_input
from layer_desktop.errors import EncodeError, RenderStateError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChunkSource:
    path: Path
    first_pts: int  # exact output pts (in the video time base) of the chunk's first frame


@dataclass(frozen=True)
class VideoTiming:
    time_base: Fraction
    rate: Fraction
    end_pts: int | None = None  # where the last frame ends (output time base); None: as the encoder said
    rotation: int = 0


# Output containers by file extension; anything else is written as MP4.
CONTAINERS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska"}
# Audio codecs players accept in MP4/MOV; others (PCM, Vorbis, Opus, FLAC, ...) are encoded to AAC.
MP4_AUDIO = frozenset({"aac", "mp3", "ac3", "eac3", "alac"})


def container_for(output: Path) -> str:
    """The muxer for ``output``, from its extension (.mp4/.m4v, .mov, .mkv; otherwise MP4)."""
    return CONTAINERS.get(output.suffix.lower(), "mp4")


def audio_needs_encoding(codec: str, container: str) -> bool:
    """True when ``container`` cannot carry ``codec`` audio as it is (Matroska carries any)."""
    return container != "matroska" and codec not in MP4_AUDIO


@dataclass(frozen=True)
class AudioPlan:
    """Where the output's audio comes from: the source's track (copied), another file (encoded), or none."""

    source: Path | None
    offset: float = 0.0  # seconds to subtract from the audio timestamps (the video's start)
    reencode: bool = False  # True for a replacement file: encode to AAC instead of copying


def _chunk_pts(chunk: ChunkSource, time_base: Fraction) -> list[int]:
    """Exact output pts of the chunk's packets, in decode order."""
    with av.open(str(chunk.path)) as src:
        stream = src.streams.video[0]
        scale = (stream.time_base or time_base) / time_base
        raw = [round(p.pts * scale) for p in src.demux(stream) if p.size > 0 and p.pts is not None]
    if not raw:
        raise RenderStateError(f"The chunk file {chunk.path} holds no frames.", path=chunk.path)
    shift = chunk.first_pts - min(raw)
    return [pts + shift for pts in raw]


def decode_timestamps(pts_in_decode_order: Sequence[int], delay: int) -> list[int]:
    """dts for packets: the sorted pts moved back by ``delay`` (strictly rising, never after a pts)."""
    return [pts - delay for pts in sorted(pts_in_decode_order)]


def reorder_delay(pts_in_decode_order: Sequence[int]) -> int:
    """The least shift that keeps every packet's dts at or before its pts."""
    ordered = sorted(pts_in_decode_order)
    return max(s - p for s, p in zip(ordered, pts_in_decode_order, strict=True))


def _durations(per_chunk: Sequence[Sequence[int]], end_pts: int | None) -> dict[int, int]:
    ordered = sorted(p for chunk in per_chunk for p in chunk)
    durations = {a: b - a for a, b in itertools.pairwise(ordered)}
    if end_pts is not None and end_pts > ordered[-1]:
        durations[ordered[-1]] = end_pts - ordered[-1]
    return durations


def _video_packets(chunks: Sequence[ChunkSource], timing: VideoTiming) -> Iterator[av.Packet[av.VideoStream]]:
    time_base = timing.time_base
    per_chunk = [_chunk_pts(c, time_base) for c in chunks]
    delay = max(reorder_delay(p) for p in per_chunk)
    durations = _durations(per_chunk, timing.end_pts)
    for chunk, pts_list in zip(chunks, per_chunk, strict=True):
        dts_list = decode_timestamps(pts_list, delay)
        with av.open(str(chunk.path)) as src:
            stream = src.streams.video[0]
            scale = (stream.time_base or time_base) / time_base
            packets = (p for p in src.demux(stream) if p.size > 0 and p.pts is not None)
            for p, pts, dts in zip(packets, pts_list, dts_list, strict=True):
                duration = durations.get(pts, round((p.duration or 0) * scale))
                p.pts, p.dts, p.time_base, p.duration = pts, dts, time_base, duration
                yield p


def _copied_audio(
    container: av.container.InputContainer, offset: float
) -> Iterator[av.Packet[av.AudioStream]]:
    stream = container.streams.audio[0]
    tb = stream.time_base or Fraction(1, stream.codec_context.sample_rate)
    shift = round(Fraction(offset) / tb)
    for p in container.demux(stream):
        if p.pts is None or p.size == 0:
            continue
        p.pts -= shift
        p.dts = (p.dts if p.dts is not None else p.pts + shift) - shift
        yield p


def _decoded_audio(
    container: av.container.InputContainer, path: Path, notes: list[str]
) -> Iterator[av.AudioFrame]:
    """The first audio track's frames; frames that do not decode are skipped and noted."""
    damage = Damage()
    yield from audio_frames(container, container.streams.audio[0], path, damage)
    if damage.frames:
        notes.append(f"{damage.frames} damaged audio frame(s) of {path.name} skipped")


def _encoded_audio(
    container: av.container.InputContainer,
    out_stream: av.AudioStream,
    offset: float,
    path: Path,
    notes: list[str],
) -> Iterator[av.Packet[av.AudioStream]]:
    rate = out_stream.rate
    resampler = av.AudioResampler(format="fltp", layout=out_stream.codec_context.layout, rate=rate)
    written: int | None = None  # output samples so far; set from the first frame's time
    skip = 0
    for frame in _decoded_audio(container, path, notes):
        if written is None:
            # Line the sound up with the video as the source did: start where the source's audio starts
            # relative to the first video frame, dropping any sound from before it.
            lead = round(((frame.time or 0.0) - offset) * rate)
            written, skip = max(lead, 0), max(-lead, 0)
        for r in resampler.resample(frame):
            if skip >= r.samples:
                skip -= r.samples
                continue
            r.pts, r.time_base = written, Fraction(1, rate)
            written += r.samples
            yield from out_stream.encode(r)
    written = written or 0
    for r in resampler.resample(None):
        r.pts, r.time_base = written, Fraction(1, out_stream.rate)
        written += r.samples
        yield from out_stream.encode(r)
    yield from out_stream.encode(None)


def _seconds(p: av.Packet[Stream]) -> float:
    value = p.dts if p.dts is not None else p.pts
    return float((value or 0) * (p.time_base or 1))


def join_chunks(
    chunks: Sequence[ChunkSource],
    output: Path,
    *,
    timing: VideoTiming,
    audio: AudioPlan,
    metadata: Mapping[str, str] | None = None,
    notes: list[str] | None = None,
) -> Path:
    """Write ``output`` from ``chunks`` (in order) plus audio; the file appears only when complete.

    The container follows ``output``'s extension (``container_for``); audio it cannot carry is encoded
    to AAC. ``metadata`` becomes container tags (MP4 ``mdta`` keys, so any key name survives).
    What the join changed or skipped is appended to ``notes``. Raises ``EncodeError``."""
    if not chunks:
        raise RenderStateError("There are no chunks to join.")
    tmp = output.with_name(f".{output.stem}.partial{output.suffix}")
    try:
        _write(chunks, tmp, timing, audio, metadata or {}, notes if notes is not None else [])
        os.replace(tmp, output)
    except av.error.FFmpegError as exc:
        raise EncodeError(f"Writing {output} failed: {exc}", path=output) from exc
    finally:
        tmp.unlink(missing_ok=True)
    return output


def _write(
    chunks: Sequence[ChunkSource],
    tmp: Path,
    timing: VideoTiming,
    audio: AudioPlan,
    metadata: Mapping[str, str],
    notes: list[str],
) -> None:
    fmt = container_for(tmp)
    flags = "+faststart+use_metadata_tags" if metadata else "+faststart"
    options = {} if fmt == "matroska" else {"movflags": flags}
    with (
        av.open(str(chunks[0].path)) as first,
        av.open(str(tmp), "w", format=fmt, options=options) as out,
    ):
        out.metadata.update(metadata)
        v_out = out.add_stream_from_template(first.streams.video[0])
        v_out.time_base = timing.time_base
        if timing.rotation:
            v_out.set_display_rotation(timing.rotation)
        video = _retarget(_video_packets(chunks, timing), v_out)
        if audio.source is None:
            for p in video:
                out.mux(p)
            return
        with open_input(audio.source) as a_in:
            a_src = audio_stream(a_in, audio.source)
            if audio.reencode or audio_needs_encoding(a_src.codec_context.name, fmt):
                if not audio.reencode:
                    notes.append(f"{a_src.codec_context.name} audio encoded to AAC ({fmt} does not carry it)")
                layout = "mono" if a_src.codec_context.layout.nb_channels == 1 else "stereo"
                a_out = out.add_stream("aac", rate=a_src.codec_context.sample_rate or 48000, layout=layout)
                a_out.codec_context.bit_rate = 128_000 if layout == "mono" else 192_000
                packets = _encoded_audio(a_in, a_out, audio.offset, audio.source, notes)
                a_packets = _retarget(packets, a_out)
            else:
                a_out = out.add_stream_from_template(a_src)
                a_packets = _retarget(_copied_audio(a_in, audio.offset), a_out)
            for p in heapq.merge(video, a_packets, key=_seconds):
                out.mux(p)


def _retarget(packets: Iterator[av.Packet[Any]], stream: Stream) -> Iterator[av.Packet[Stream]]:
    """Hand each packet to ``stream`` of the output (a packet of any input stream type)."""
    for p in packets:
        p.stream = stream
        yield p
