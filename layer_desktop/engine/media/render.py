"""Chunked, resumable rendering of a whole video, and the re-render of a frame range (the review splice).

    render(spec)                      encode every chunk not already finished, then join + mux audio
    rerender_range(spec, a, b, step)  encode again only the chunks holding frames a..b, then re-join

The work folder holds the chunk files and ``manifest.json``; it is kept after the render so that a
review can splice re-rendered ranges in later. A manifest made for other settings or another source
file is discarded (its chunks would not join with new ones).
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path

from layer_desktop.engine.media.chunks import (
    ChunkRecord,
    RenderManifest,
    chunks_touching,
    load_manifest,
    plan_chunks,
    remove_stray_files,
    reusable_chunks,
    save_manifest,
)
from layer_desktop.engine.media.encode import (
    INTERLACED_ENCODERS,
    ColourTags,
    OutputSettings,
    choose_encoder,
    encodable_size,
)
from layer_desktop.engine.media.join import AudioPlan, ChunkSource, VideoTiming, join_chunks
from layer_desktop.engine.media.pipeline import (
    ChunkJob,
    ChunkWriter,
    EncodeTarget,
    FrameProcessor,
    Passthrough,
    Pipeline,
)
from layer_desktop.engine.media.reader import FrameReader
from layer_desktop.errors import RenderStateError
from layer_desktop.paths import app_paths

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (frames done, frames to do)
ChunkDone = Callable[[ChunkRecord], None]  # called (from the encode thread) as each chunk is finished


@dataclass(frozen=True)
class RenderSpec:
    """What to render. Plain data: the same spec runs in-process, in the local engine or on a remote one."""

    source: str
    output: str
    settings: OutputSettings = field(default_factory=OutputSettings)
    chunk_frames: int = 60
    audio: str = "source"  # "source" (copy the original track), "none", or a path to replacement audio
    metadata: tuple[tuple[str, str], ...] = ()  # container tags of the output (not part of the fingerprint)

    def fingerprint(self, encoder: str) -> str:
        src = Path(self.source).resolve()
        stat = src.stat()
        key = {
            "source": str(src), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns,
            "settings": asdict(self.settings), "chunk_frames": self.chunk_frames, "encoder": encoder,
        }  # fmt: skip
        return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class RenderReport:
    output: str
    frames: int
    chunks: int
    encoded: tuple[int, ...]  # chunks encoded in this run
    reused: tuple[int, ...]  # finished chunks verified and reused
    encoder: str
    fallback_reason: str | None
    seconds: float
    work_dir: str
    notes: tuple[str, ...] = ()  # what the render changed to make the output playable, and what it skipped


def default_work_dir(spec: RenderSpec) -> Path:
    """The work folder for ``spec``'s output, in the app's cache (one per output path)."""
    key = hashlib.sha1(str(Path(spec.output).resolve()).encode()).hexdigest()[:16]
    return app_paths().renders_dir / f"{Path(spec.output).stem}-{key}"


def render(
    spec: RenderSpec,
    processor: FrameProcessor | None = None,
    *,
    work_dir: Path | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    on_chunk: ChunkDone | None = None,
) -> RenderReport:
    """Render ``spec``, reusing verified finished chunks from an earlier (interrupted) run.

    Raises ``MediaError`` subclasses for unusable input, ``EncodeError`` when encoding fails and
    ``RenderCancelled`` when ``cancel`` is set; in every case no output file is left behind as if complete.
    """
    hooks = _Hooks(progress, cancel, on_chunk)
    return _run(spec, processor or Passthrough(), work_dir or default_work_dir(spec), None, hooks)


def rerender_range(
    spec: RenderSpec,
    first: int,
    last: int,
    processor: FrameProcessor,
    *,
    work_dir: Path | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    on_chunk: ChunkDone | None = None,
) -> RenderReport:
    """Encode again only the chunks holding frames ``first`` .. ``last`` with ``processor``, then re-join."""
    wd = work_dir or default_work_dir(spec)
    if load_manifest(wd) is None:
        raise RenderStateError(
            f"There is no earlier render of {spec.output} to splice into.",
            hint="Render the whole video first; then re-render ranges of it.",
        )
    return _run(spec, processor, wd, (first, last), _Hooks(progress, cancel, on_chunk))


def encode_chunks(
    spec: RenderSpec,
    processor: FrameProcessor,
    indices: list[int],
    *,
    work_dir: Path,
    cancel: threading.Event | None = None,
    on_chunk: ChunkDone | None = None,
) -> RenderManifest:
    """Encode only chunks ``indices`` of ``spec`` into ``work_dir`` (its own manifest), without joining:
    the part of a render one cluster worker does. A chunk already finished there is verified and kept.
    Returns the manifest (its ``encoder`` and the finished chunks' records)."""
    choice = choose_encoder(spec.settings)
    with FrameReader(spec.source) as reader:
        work_dir.mkdir(parents=True, exist_ok=True)
        plan = plan_chunks(reader.frame_count, spec.chunk_frames)
        manifest = _prepare_manifest(spec, work_dir, choice.name, reader.frame_count)
        reused = reusable_chunks(work_dir, manifest, plan)
        save_manifest(work_dir, manifest)
        remove_stray_files(work_dir, manifest)
        jobs = [ChunkJob(i, *plan[i]) for i in indices if i not in reused]
        hooks = _Hooks(None, cancel, on_chunk)
        _encode_jobs(reader, processor, jobs, work_dir, manifest, choice.name, spec, hooks)
    return manifest


def _prepare_manifest(spec: RenderSpec, wd: Path, encoder: str, total: int) -> RenderManifest:
    fingerprint = spec.fingerprint(encoder)
    manifest = load_manifest(wd)
    if manifest is not None and (manifest.fingerprint != fingerprint or manifest.total_frames != total):
        log.info("render settings or source changed; discarding earlier chunks in %s", wd)
        manifest = None
    if manifest is None:
        manifest = RenderManifest(fingerprint, total, spec.chunk_frames, encoder)
    return manifest


@dataclass(frozen=True)
class _Hooks:
    progress: Progress | None = None
    cancel: threading.Event | None = None
    on_chunk: ChunkDone | None = None


def _run(
    spec: RenderSpec,
    processor: FrameProcessor,
    wd: Path,
    redo: tuple[int, int] | None,
    hooks: _Hooks,
) -> RenderReport:
    started = time.perf_counter()
    choice = choose_encoder(spec.settings)
    with FrameReader(spec.source) as reader:
        if redo is not None:
            reader.check_index(redo[0])
            reader.check_index(redo[1])
        wd.mkdir(parents=True, exist_ok=True)
        total = reader.frame_count
        plan = plan_chunks(total, spec.chunk_frames)
        manifest = _prepare_manifest(spec, wd, choice.name, total)
        if redo is not None:
            for index in chunks_touching(plan, *redo):
                manifest.chunks.pop(index, None)
        reused = reusable_chunks(wd, manifest, plan)
        save_manifest(wd, manifest)
        remove_stray_files(wd, manifest)
        jobs = [ChunkJob(i, s, e) for i, (s, e) in enumerate(plan) if i not in reused]
        _encode_jobs(reader, processor, jobs, wd, manifest, choice.name, spec, hooks)
        first_pts = reader.index.pts[0]
        sources = [
            ChunkSource(wd / manifest.chunks[i].file, reader.index.pts[s] - first_pts)
            for i, (s, _) in enumerate(plan)
        ]
        offset = float(first_pts * reader.index.time_base)
        timing = VideoTiming(
            time_base=reader.index.time_base, rate=reader.stream.average_rate or Fraction(25, 1),
            end_pts=reader.end_pts - first_pts if reader.end_pts else None, rotation=reader.rotation,
        )  # fmt: skip
        notes = _size_notes(reader, spec.settings) + _field_notes(reader, spec.settings, choice.name)
        join_chunks(
            sources, Path(spec.output), timing=timing, audio=_audio_plan(spec, reader, offset),
            metadata=dict(spec.metadata), notes=notes,
        )  # fmt: skip
    for note in notes:
        log.info("render of %s: %s", spec.output, note)
    return RenderReport(
        output=spec.output, frames=total, chunks=len(plan), encoded=tuple(j.index for j in jobs),
        reused=tuple(sorted(reused)), encoder=choice.name, fallback_reason=choice.fallback_reason,
        seconds=time.perf_counter() - started, work_dir=str(wd), notes=tuple(notes),
    )  # fmt: skip


def _fields_kept(reader: FrameReader, settings: OutputSettings, encoder: str) -> str | None:
    """The field order the output is encoded with ("tff"/"bff"), or None for progressive output."""
    if not reader.interlaced or settings.field_order != "keep" or encoder not in INTERLACED_ENCODERS:
        return None
    return reader.field_order


def _field_notes(reader: FrameReader, settings: OutputSettings, encoder: str) -> list[str]:
    if not reader.interlaced:
        return []
    first = "top" if reader.field_order == "tff" else "bottom"
    kept = _fields_kept(reader, settings, encoder)
    if kept is not None:
        return [f"interlaced source: written interlaced, {first} field first (field order kept)"]
    why = "" if settings.field_order == "progressive" else f" ({encoder} cannot write interlaced video)"
    return [f"interlaced source ({first} field first) deinterlaced to progressive (yadif){why}"]


def _size_notes(reader: FrameReader, settings: OutputSettings) -> list[str]:
    cc = reader.stream.codec_context
    w, h = encodable_size(cc.width, cc.height, settings.pix_fmt)
    notes = []
    if (w, h) != (cc.width, cc.height):
        why = f"{settings.pix_fmt} needs even sides"
        notes.append(f"{cc.width}×{cc.height} padded to {w}×{h} (edge pixels repeated): {why}")
    return notes


def _audio_plan(spec: RenderSpec, reader: FrameReader, offset: float) -> AudioPlan:
    if spec.audio == "none":
        return AudioPlan(None)
    if spec.audio == "source":
        return AudioPlan(Path(spec.source) if reader.has_audio else None, offset=offset)
    return AudioPlan(Path(spec.audio), offset=0.0, reencode=True)


def _encode_jobs(
    reader: FrameReader,
    processor: FrameProcessor,
    jobs: list[ChunkJob],
    wd: Path,
    manifest: RenderManifest,
    encoder: str,
    spec: RenderSpec,
    hooks: _Hooks,
) -> None:
    if not jobs:
        return
    stream = reader.stream
    width, height = encodable_size(
        stream.codec_context.width, stream.codec_context.height, spec.settings.pix_fmt
    )
    target = EncodeTarget(
        work_dir=wd, encoder=encoder, settings=spec.settings, width=width,
        height=height, rate=stream.average_rate or Fraction(25, 1),
        time_base=reader.index.time_base, first_pts=reader.index.pts[0], processor_tag=processor.tag,
        colour=ColourTags.of(stream), fields=_fields_kept(reader, spec.settings, encoder),
    )  # fmt: skip
    lock = threading.Lock()

    def chunk_done(record: ChunkRecord) -> None:
        # the hook (review records) runs before the manifest counts the chunk as finished: a crash in
        # between re-encodes the chunk and repeats the hook, rather than keeping a chunk without records
        if hooks.on_chunk is not None:
            hooks.on_chunk(record)
        with lock:
            manifest.chunks[record.index] = record
            save_manifest(wd, manifest)
        log.debug("chunk %d finished (%d frames)", record.index, record.stop - record.start)

    todo = sum(j.stop - j.start for j in jobs)
    progress = hooks.progress
    report = (lambda done: progress(done, todo)) if progress else None
    writer = ChunkWriter(target, chunk_done)
    deinterlace = reader.interlaced and target.fields is None
    Pipeline(reader, processor, writer, progress=report, cancel=hooks.cancel, deinterlace=deinterlace).run(
        jobs
    )


def clean_work_dir(work_dir: Path) -> None:
    """Delete a render's work folder (after publishing, when no more splices are wanted)."""
    shutil.rmtree(work_dir, ignore_errors=True)
