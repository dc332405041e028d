"""The transform job: persona + video → transformed video, with review records; resumable and spliceable.

    run_transform(spec)                      analyse faces → plan → chunked render → join + disclosure
    chunk_stage(spec, folder, store)         a cluster worker's share: render spec, processor, records
    rerender_job(job, first, last, changes)  a new segment for first..last, only its chunks re-rendered

A job lives in its own folder (``<data>/jobs/<id>``, the id derived from the output path, so running
the same command again resumes it): ``spec.json``, ``state.json``, ``analysis/`` (faces per chunk),
``render/`` (chunks + manifest) and ``records/`` (review records per chunk).
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from layer_desktop.engine.lipsync.transform import attach_lipsync, lipsync_wanted
from layer_desktop.engine.media.chunks import ChunkRecord
from layer_desktop.engine.media.encode import OutputSettings
from layer_desktop.engine.media.reader import FrameReader
from layer_desktop.engine.media.render import RenderReport, RenderSpec, render, rerender_range
from layer_desktop.engine.models import ModelStore
from layer_desktop.engine.personas import Persona, PersonaStore
from layer_desktop.engine.pipeline.analysis import AnalysisKey, analyse_video
from layer_desktop.engine.pipeline.consent import ConsentWatch
from layer_desktop.engine.pipeline.disclosure import metadata
from layer_desktop.engine.pipeline.elsewhere import Elsewhere
from layer_desktop.engine.pipeline.guard import check_face_frame, guarded_output, spec_restored_on_failure
from layer_desktop.engine.pipeline.plan import FramePlan, make_plan
from layer_desktop.engine.pipeline.processor import TransformProcessor
from layer_desktop.engine.pipeline.records import FrameRecord, RecordBook, load_records
from layer_desktop.engine.pipeline.spec import TransformSpec
from layer_desktop.engine.provenance.transform import sign_transform_output, watermark_payload
from layer_desktop.engine.swap.options import SwapOptions
from layer_desktop.engine.swap.registry import make_enhancer, make_swapper
from layer_desktop.engine.swap.types import Enhancer, Swapper
from layer_desktop.errors import InputError, NoAudioStreamError, RenderStateError
from layer_desktop.paths import app_paths
from layer_desktop.settings import write_atomic

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]  # (stage, done, total): stages "analyse", "render"
RecordsDone = Callable[[list[FrameRecord]], None]  # a chunk's records, once its video is finished


@dataclass(frozen=True)
class TransformReport:
    job_id: str
    job_dir: str
    output: str
    frames: int
    swapped: int
    flagged: dict[str, int]
    encoder: str
    fallback_reason: str | None
    chunks_encoded: int
    chunks_reused: int
    analysis_seconds: float
    render_seconds: float
    notes: tuple[str, ...] = ()  # the render's: padding, deinterlacing, audio encoded, frames skipped


@dataclass(frozen=True)
class Job:
    job_id: str
    folder: Path
    spec: TransformSpec

    @property
    def records(self) -> list[FrameRecord]:
        return load_records(self.folder / "records")


def jobs_dir() -> Path:
    return app_paths().data_dir / "jobs"


def job_id_for(output: str | Path) -> str:
    return hashlib.sha1(str(Path(output).resolve()).encode()).hexdigest()[:12]


def load_job(ref: str | Path) -> Job:
    """A job by id, by its folder, or by its output file. Raises ``RenderStateError`` when unknown."""
    candidates = [jobs_dir() / str(ref), Path(ref), jobs_dir() / job_id_for(ref)]
    for folder in candidates:
        spec_file = folder / "spec.json"
        if spec_file.is_file():
            spec = TransformSpec.model_validate_json(spec_file.read_text())
            return Job(folder.name, folder, spec)
    raise RenderStateError(
        f"There is no transform job {str(ref)!r}.",
        hint="Give the job id printed by `layer transform`, or the output file it wrote.",
    )


def source_key(path: str) -> str:
    p = Path(path).resolve()
    st = p.stat()
    return hashlib.sha256(f"{p}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()


def analysis_key(spec: TransformSpec) -> AnalysisKey:
    """What the job's face analysis depends on (source file, detector, chunking)."""
    return AnalysisKey(source_key(spec.source), spec.detector, spec.output_settings.chunk_frames)


class _Stages:
    """Swappers and enhancers per (persona, options), built on first use in the processing thread."""

    def __init__(self, store: PersonaStore, models: ModelStore | None) -> None:
        self.store, self.models = store, models
        self._cache: dict[tuple[str, str], tuple[Swapper, Enhancer | None]] = {}
        self.personas: dict[str, Persona] = {}

    def persona(self, ref: str) -> Persona:
        if ref not in self.personas:
            self.personas[ref] = self.store.get(ref)
        return self.personas[ref]

    def __call__(self, persona: str, options: SwapOptions) -> tuple[Swapper, Enhancer | None]:
        key = (persona, options.model_dump_json())
        if key not in self._cache:
            swapper = make_swapper(options, self.persona(persona), self.store, self.models)
            self._cache[key] = (swapper, make_enhancer(options, self.models))
        return self._cache[key]


def stable_references(spec: TransformSpec, plan: list[FramePlan], stages: _Stages) -> list[int | None]:
    """One persona photo per run of swapped frames (the best for the run's middle frame), so the
    texture never hops between photos from frame to frame."""
    refs: list[int | None] = [None] * len(plan)
    start = 0
    while start < len(plan):
        key = spec.settings_at(start)
        stop = start + 1
        while stop < len(plan) and (plan[stop].target is None) == (plan[start].target is None):
            if spec.settings_at(stop) != key or plan[stop].shot != plan[start].shot:
                break  # a new shot may show the face in another light: choose its photo again
            stop += 1
        mid = plan[(start + stop - 1) // 2].target
        if key[0] and mid is not None:
            swapper, _ = stages(key[1], key[2])
            choose = getattr(swapper, "reference_for", None)
            ref = choose(mid) if choose is not None else None
            refs[start:stop] = [ref] * (stop - start)
        start = stop
    return refs


def converted_audio(spec: TransformSpec, folder: Path, stages: _Stages) -> str:
    """The output's audio: the source track, or (voice on) the persona's voice, loudness-normalised,
    written to the job folder as WAV at the source's rate and channels (same sample count)."""
    if not spec.voice.enabled or spec.audio != "source":
        return spec.audio
    from layer_desktop.engine.media.audio import extract_audio
    from layer_desktop.engine.media.probe import probe
    from layer_desktop.engine.voice import convert_voice, normalise_loudness
    from layer_desktop.engine.voice.audio_file import write_audio

    track = probe(spec.source).audio
    if track is None:
        raise NoAudioStreamError(f"{spec.source} has no audio track to convert.", path=Path(spec.source))
    pcm = extract_audio(spec.source, track.sample_rate, channels=min(2, track.channels))
    persona = stages.persona(spec.persona)
    converted = convert_voice(pcm, persona.id, backend=spec.voice.backend, store=stages.store)
    path = folder / "voice.wav"
    write_audio(path, normalise_loudness(converted, spec.voice.loudness_lufs))
    return str(path)


def _render_spec(spec: TransformSpec, job_id: str, stages: _Stages, audio: str | None = None) -> RenderSpec:
    o = spec.output_settings
    personas = sorted(
        {stages.persona(spec.persona).id} | {stages.persona(s.persona).id for s in spec.segments if s.persona}
    )
    backends = sorted({spec.swap.backend} | {s.swap.backend for s in spec.segments if s.swap})
    tags = metadata(job_id=job_id, persona_ids=personas, backends=["blazeface+facemesh-468", *backends])
    settings = OutputSettings(codec=o.codec, crf=o.crf, preset=o.preset, hardware=o.hardware)
    if spec.voice.enabled:
        tags["layer_voice"] = spec.voice.backend
    return RenderSpec(
        spec.source, spec.output, settings, o.chunk_frames, audio or spec.audio, tuple(tags.items())
    )


def _prepare(
    spec: TransformSpec, folder: Path, store: PersonaStore, models: ModelStore | None,
    progress: Progress | None, cancel: threading.Event | None, key: AnalysisKey | None = None,
) -> tuple[_Stages, TransformProcessor, RecordBook, float]:  # fmt: skip
    stages = _Stages(store, models)
    stages.persona(spec.persona)  # fail early on an unknown persona
    for seg in spec.segments:
        if seg.persona:
            stages.persona(seg.persona)
    started = time.perf_counter()
    with FrameReader(spec.source) as reader:
        check_face_frame(spec, reader.frame_count)
        report = (lambda d, t: progress("analyse", d, t)) if progress else None
        key = key or analysis_key(spec)
        found = analyse_video(reader, folder / "analysis", key, progress=report, cancel=cancel)
        rotation = reader.rotation
    analysis_seconds = time.perf_counter() - started
    plan = make_plan(spec, found.frames, found.shots)
    book = RecordBook(folder / "records")
    refs = stable_references(spec, plan, stages)
    proc = TransformProcessor(spec, plan, stages, rotation=rotation, references=refs, on_record=book.add)
    proc.watermark = watermark_payload(folder.name) if spec.disclosure.watermark else None
    return stages, proc, book, analysis_seconds


def check_splittable(spec: TransformSpec) -> None:
    """Raise ``InputError`` for a job whose chunks cannot be encoded by separate workers: voice and
    lip-sync jobs (their audio stage is one piece, made before the frames)."""
    if spec.voice.enabled or lipsync_wanted(spec):
        raise InputError(
            "Voice conversion and lip-sync jobs run on one engine, not split across a cluster.",
            hint="Render this job on a single engine (leave out --cluster).",
        )


def chunk_stage(
    spec: TransformSpec, folder: Path, store: PersonaStore, models: ModelStore | None = None,
    on_records: RecordsDone | None = None, key: AnalysisKey | None = None,
) -> tuple[RenderSpec, TransformProcessor, Callable[[ChunkRecord], None]]:  # fmt: skip
    """What a cluster worker needs to encode chunks of the job in ``folder``: the render spec, the frame
    processor (the analysis is read from the job's cache, which the driver filled; ``key``: the driver's
    analysis key, for a worker whose copy of the source lies at another path) and the chunk hook that
    writes the chunk's review records. Raises what ``check_splittable`` raises."""
    check_splittable(spec)
    stages, proc, book, _ = _prepare(spec, folder, store, models, None, None, key)
    return _render_spec(spec, folder.name, stages), proc, _chunk_hook(book, on_records)


def _chunk_hook(
    book: RecordBook, on_records: RecordsDone | None, watch: ConsentWatch | None = None
) -> Callable[[ChunkRecord], None]:
    def done(c: ChunkRecord) -> None:
        if watch is not None:
            watch.check()  # consent at every chunk: a withdrawn one stops the job before it counts
        rows = book.chunk_done(c.index, c.start, c.stop)
        if on_records is not None:
            on_records(rows)

    return done


def _report(
    job_id: str, folder: Path, spec: TransformSpec, r: RenderReport, analysis_s: float
) -> TransformReport:
    records = load_records(folder / "records")
    flagged: dict[str, int] = {}
    for rec in records:
        for f in rec.flags:
            flagged[f] = flagged.get(f, 0) + 1
    report = TransformReport(
        job_id=job_id, job_dir=str(folder), output=spec.output, frames=r.frames,
        swapped=sum(rec.applied for rec in records), flagged=flagged, encoder=r.encoder,
        fallback_reason=r.fallback_reason, chunks_encoded=len(r.encoded), chunks_reused=len(r.reused),
        analysis_seconds=analysis_s, render_seconds=r.seconds, notes=tuple(r.notes),
    )  # fmt: skip
    write_atomic(
        folder / "state.json", json.dumps({"status": "done", "report": asdict(report)}, indent=1).encode()
    )
    return report


def run_transform(
    spec: TransformSpec,
    *,
    store: PersonaStore | None = None,
    models: ModelStore | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    folder: Path | None = None,
    on_records: RecordsDone | None = None,
    elsewhere: Elsewhere | None = None,
) -> TransformReport:
    """Run (or resume) the job for ``spec`` in ``folder`` (default: ``<data>/jobs/<id from output>``).
    ``elsewhere``: a cluster's workers analyse and encode chunks before this process's passes.
    Raises ``PersonaNotFoundError``, ``NoFaceError``, ``MediaError`` subclasses, ``ModelNotFoundError``
    for a missing model backend file, ``EncodeError``, and ``RenderCancelled`` when ``cancel`` is set
    (finished work is kept)."""
    folder = folder or jobs_dir() / job_id_for(spec.output)
    store = store or PersonaStore()
    folder.mkdir(parents=True, exist_ok=True)  # the app's own job folder (an engine's output lives in it)
    with guarded_output(spec, folder):
        watch = ConsentWatch(store, spec, folder.name)
        with watch.stops_job(folder, Path(spec.output)):
            hooks = _JobHooks(progress, cancel, on_records, elsewhere)
            return _transform(spec, store, models, hooks, folder, watch)


@dataclass(frozen=True)
class _JobHooks:
    progress: Progress | None = None
    cancel: threading.Event | None = None
    on_records: RecordsDone | None = None
    elsewhere: Elsewhere | None = None


def _transform(
    spec: TransformSpec, store: PersonaStore, models: ModelStore | None, hooks: _JobHooks,
    folder: Path, watch: ConsentWatch,
) -> TransformReport:  # fmt: skip
    progress, cancel, on_records = hooks.progress, hooks.cancel, hooks.on_records
    job_id = folder.name
    folder.mkdir(parents=True, exist_ok=True)
    _discard_stale_render(folder, spec)
    write_atomic(folder / "spec.json", spec.model_dump_json(indent=1).encode())
    write_atomic(folder / "state.json", json.dumps({"status": "running"}).encode())
    if hooks.elsewhere is not None:
        hooks.elsewhere.analyse(folder / "analysis", analysis_key(spec))
    stages, proc, book, analysis_s = _prepare(spec, folder, store, models, progress, cancel)
    audio = attach_lipsync(spec, folder, proc, converted_audio(spec, folder, stages), models, stages.store)
    rspec = _render_spec(spec, job_id, stages, audio)
    if hooks.elsewhere is not None:
        hooks.elsewhere.encode(rspec, folder / "render")
    report = (lambda d, t: progress("render", d, t)) if progress else None
    result = render(
        rspec, proc, work_dir=folder / "render", progress=report, cancel=cancel,
        on_chunk=_chunk_hook(book, on_records, watch),
    )  # fmt: skip
    watch.check()  # withdrawn between the last chunk and the join
    result = _signed(spec, job_id, stages, proc, result)  # the last write to the output
    return _report(job_id, folder, spec, result, analysis_s)


def _signed(
    spec: TransformSpec, job_id: str, stages: _Stages, proc: TransformProcessor, result: RenderReport
) -> RenderReport:
    """Sign the output (C2PA); a container that cannot carry a manifest adds a note to the report."""
    note = sign_transform_output(spec, job_id, stages.personas.values(), proc.watermark)
    return replace(result, notes=(*result.notes, note)) if note else result


def _discard_stale_render(folder: Path, spec: TransformSpec) -> None:
    """A job folder whose spec differs from ``spec`` keeps its face analysis but not its render."""
    old = folder / "spec.json"
    if old.is_file() and TransformSpec.model_validate_json(old.read_text()) != spec:
        log.info("the job's settings changed; rendering every chunk again")
        shutil.rmtree(folder / "render", ignore_errors=True)
        shutil.rmtree(folder / "records", ignore_errors=True)


def rerender_job(
    ref: str | Path,
    first: int,
    last: int,
    changes: dict[str, str] | None = None,
    *,
    store: PersonaStore | None = None,
    models: ModelStore | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    on_records: RecordsDone | None = None,
) -> TransformReport:
    """Re-render frames ``first`` .. ``last`` of a finished job (a new segment with ``changes``), splicing
    only the chunks that hold them; their records are replaced."""
    job = load_job(ref)
    if not (job.folder / "render" / "manifest.json").is_file():
        raise RenderStateError(
            f"Job {job.job_id} has no finished render to splice into.", hint="Run it first."
        )
    spec = job.spec.with_segment(first, last, changes) if changes else job.spec
    store = store or PersonaStore()
    # everything is checked before spec.json is touched: a refused change leaves the job as it was
    watch = ConsentWatch(store, spec, job.job_id)
    with guarded_output(spec, job.folder), watch.stops_job(job.folder, Path(spec.output)):
        stages, proc, book, analysis_s = _prepare(spec, job.folder, store, models, None, cancel)
        with spec_restored_on_failure(job.folder / "spec.json"):
            write_atomic(job.folder / "spec.json", spec.model_dump_json(indent=1).encode())
            audio = attach_lipsync(
                spec, job.folder, proc, converted_audio(spec, job.folder, stages), models, stages.store
            )
            rspec = _render_spec(spec, job.job_id, stages, audio)
            report = (lambda d, t: progress("render", d, t)) if progress else None
            result = rerender_range(
                rspec, first, last, proc, work_dir=job.folder / "render", progress=report, cancel=cancel,
                on_chunk=_chunk_hook(book, on_records, watch),
            )  # fmt: skip
            watch.check()
            result = _signed(spec, job.job_id, stages, proc, result)  # the last write to the output
        return _report(job.job_id, job.folder, spec, result, analysis_s)


def review(ref: str | Path) -> list[FrameRecord]:
    """The job's flagged frames, in order."""
    return [r for r in load_job(ref).records if r.flags]
