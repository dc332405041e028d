"""Run a transform on a Ray cluster. The job is the single-engine job (analysis, plan, review records,
join, mux, C2PA) with one difference: before the render joins the chunks, Ray actors encode them, one
actor per GPU, a chunk at a time each. A chunk is idempotent: an actor that dies is restarted and its
chunk encoded again from the start (a half-written file is discarded); a chunk finished by an earlier,
interrupted run is verified and kept.

Limits: the job folder must be on storage every worker can read and write (one machine, or a shared
mount); voice and lip-sync jobs run on one engine; the driver and the workers must pick the same encoder
(same kind of machine), else the driver encodes the chunks again itself.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import shutil
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from layer_desktop.engine.cluster.errors import ClusterError
from layer_desktop.engine.cluster.kit import JobKit, make_kit, with_analysis
from layer_desktop.engine.cluster.worker import ChunkWorker
from layer_desktop.engine.media.chunks import (
    ChunkRecord,
    RenderManifest,
    chunk_is_intact,
    load_manifest,
    plan_chunks,
    reusable_chunks,
    save_manifest,
)
from layer_desktop.engine.media.pipeline import RenderCancelled
from layer_desktop.engine.media.reader import FrameReader
from layer_desktop.engine.media.render import RenderSpec
from layer_desktop.engine.models import ModelStore
from layer_desktop.engine.personas import PersonaStore
from layer_desktop.engine.pipeline.analysis import AnalysisKey, chunk_file
from layer_desktop.engine.pipeline.analysis_split import RANGES, link_ranges, prepare, split_ranges
from layer_desktop.engine.pipeline.job import (
    Progress,
    RecordsDone,
    TransformReport,
    check_splittable,
    job_id_for,
    jobs_dir,
    run_transform,
)
from layer_desktop.engine.pipeline.records import FrameRecord
from layer_desktop.engine.pipeline.spec import TransformSpec
from layer_desktop.errors import LayerError
from layer_desktop.paths import HOME_ENV
from layer_desktop.settings import write_atomic

log = logging.getLogger(__name__)

ChunkDone = Callable[[dict[str, Any]], None]  # a worker's report of one finished chunk


@dataclass(frozen=True)
class ClusterOptions:
    # "local": a cluster in this process (this machine's CPUs and GPUs); "auto" or "ray://host:10001": a
    # running cluster; None: the one this process is connected to, else "auto"
    address: str | None = None
    workers: int | None = None  # actors; default: one per GPU of the cluster (one when it has none)
    retries: int = 2  # restarts of an actor that dies, and retries of its chunk
    # how workers reach the job's files: "shared" (the job folder is on storage every worker reads and
    # writes), "objects" (through Ray's object store: source, analysis and personas out, chunks back),
    # "auto": shared when every node runs on the driver's machine, else objects
    transfer: Literal["auto", "shared", "objects"] = "auto"
    # a fresh job this long (frames) or longer has its face analysis split into one range per worker
    split_analysis_frames: int = 1500


def import_ray() -> Any:
    try:
        import ray
    except ImportError as exc:  # the extra is optional
        raise ClusterError("Ray is not installed, so this machine cannot use a cluster.") from exc
    return ray


def token_from_environment() -> None:
    """Make Ray read ``RAY_AUTH_MODE``/``RAY_AUTH_TOKEN`` again: it reads them once, when it is imported
    (as Ray's own ``ray.init`` does after it turns token mode on)."""
    if "ray" not in sys.modules:
        return  # read at import
    from ray._raylet import AuthenticationTokenLoader, Config  # type: ignore[attr-defined]

    Config.initialize("")
    AuthenticationTokenLoader.instance().reset_cache()


def connect(address: str | None) -> Any:
    """Ray, connected to the cluster at ``address`` (kept when this process already is). Raises
    ``ClusterError`` when Ray is missing or the cluster cannot be reached."""
    if address == "local":
        # a cluster of this process: token auth, the token in this process's environment only (else
        # Ray writes one to ~/.ray/auth_token)
        os.environ.setdefault("RAY_AUTH_MODE", "token")
        os.environ.setdefault("RAY_AUTH_TOKEN", secrets.token_urlsafe(32))
    ray = import_ray()
    if ray.is_initialized():
        return ray
    token_from_environment()
    try:
        if address == "local":
            ray.init(address="local", include_dashboard=False, log_to_driver=False)
        else:
            ray.init(address=address or "auto", log_to_driver=False)
    except (ConnectionError, RuntimeError, ValueError, ray.exceptions.RayError) as exc:
        raise ClusterError(f"No Ray cluster at {address or 'auto'} ({exc}).") from exc
    return ray


def worker_actors(ray: Any, worker: type, options: ClusterOptions) -> tuple[Any, int]:
    """The Ray actor class for ``worker`` (a GPU each when the cluster has GPUs, restarted and its task
    retried ``options.retries`` times) and how many to start: ``options.workers``, else one per GPU,
    never more than the GPUs (one more would wait for a GPU for ever), at least one."""
    gpus = int(ray.cluster_resources().get("GPU", 0))
    count = max(1, options.workers or gpus or 1)
    count = min(count, gpus) if gpus else count
    actor_class = ray.remote(worker).options(
        num_gpus=1 if gpus else 0, max_restarts=options.retries, max_task_retries=options.retries
    )
    return actor_class, count


def run_transform_on_cluster(
    spec: TransformSpec,
    options: ClusterOptions | None = None,
    *,
    store: PersonaStore | None = None,
    models: ModelStore | None = None,
    folder: Path | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    on_chunk: ChunkDone | None = None,
    on_records: RecordsDone | None = None,
    worker: type[ChunkWorker] = ChunkWorker,
) -> TransformReport:
    """``run_transform`` with the chunks encoded by Ray actors. Raises what ``run_transform`` raises,
    ``ClusterError`` when the cluster cannot be reached or a worker keeps dying, ``InputError`` for a
    voice or lip-sync job, ``RenderCancelled`` when ``cancel`` is set (every actor is stopped)."""
    check_splittable(spec)
    options = options or ClusterOptions()
    folder = folder or jobs_dir() / job_id_for(spec.output)
    ray = connect(options.address)
    store = store or PersonaStore()
    hook = _chunk_hook(on_chunk, on_records)
    run = _ClusterRun(ray, options, worker, spec, store, folder, progress, cancel, hook)
    try:
        return run_transform(
            spec, store=store, models=models, folder=folder, progress=progress, cancel=cancel,
            on_records=on_records, elsewhere=run,
        )  # fmt: skip
    finally:
        run.close()


def _chunk_hook(on_chunk: ChunkDone | None, on_records: RecordsDone | None) -> ChunkDone | None:
    """One call per finished chunk: its review records to ``on_records``, the worker's report to
    ``on_chunk``."""
    if on_records is None:
        return on_chunk

    def done(result: dict[str, Any]) -> None:
        on_records([FrameRecord.from_dict(d) for d in result.get("records", ())])
        if on_chunk is not None:
            on_chunk(result)

    return done


class _ClusterRun:
    """The cluster's share of one job (``Elsewhere``): its actors live from the first task to ``close``."""

    def __init__(
        self, ray: Any, options: ClusterOptions, worker: type[ChunkWorker], spec: TransformSpec,
        store: PersonaStore, folder: Path, progress: Progress | None, cancel: threading.Event | None,
        on_chunk: ChunkDone | None,
    ) -> None:  # fmt: skip
        self.ray, self.options, self.worker = ray, options, worker
        self.spec, self.store, self.spec_json, self.folder = spec, store, spec.model_dump_json(), folder
        self.progress, self.cancel, self.on_chunk = progress, cancel, on_chunk
        self.kit: JobKit | None = None
        self.actors: list[Any] = []
        self.objects = False

    # ------------------------------------------------------------------ the job's two shares

    def analyse(self, folder: Path, key: AnalysisKey) -> None:
        """A fresh long job: its face analysis in one range of chunks per worker, then linked."""
        with FrameReader(self.spec.source) as reader:
            total = reader.frame_count
        chunks = len(plan_chunks(total, key.chunk_frames))
        prepare(folder, key)  # an analysis made for another source or detector is discarded
        started = any(chunk_file(folder, i).is_file() for i in range(chunks))
        if total < self.options.split_analysis_frames or started:
            return  # the engine analyses (or resumes) it itself
        self.store.get(self.spec.persona)  # an unknown persona fails before the cluster works
        actors = self._start()
        ranges = split_ranges(chunks, len(actors))
        if len(ranges) < 2:
            return
        log.info("cluster: face analysis of %s in %d ranges", self.spec.source, len(ranges))
        # the ranges land in a staging folder; only linked files move into the analysis, so a job killed
        # in between resumes from linked chunks (its next run analyses the rest itself)
        staging = folder / RANGES
        shutil.rmtree(staging, ignore_errors=True)
        frames_done = 0

        def done(item: tuple[int, int], result: dict[str, Any]) -> None:
            nonlocal frames_done
            for name, data in (result.get("files") or {}).items():  # from a worker's own folder
                write_atomic(staging / name, data)
            frames_done += min(item[1] * key.chunk_frames, total) - item[0] * key.chunk_frames
            if self.progress is not None:
                self.progress("analyse", frames_done, total)

        def send(actor: Any, r: tuple[int, int]) -> Any:
            return actor.analyse_chunks.remote(self.spec_json, str(self.folder), r[0], r[1], self.kit)

        self._schedule(deque(ranges), send, done)
        link_ranges(staging, ranges)
        for first, stop in ranges:
            for i in range(first, stop):
                chunk_file(staging, i).replace(chunk_file(folder, i))
        shutil.rmtree(staging, ignore_errors=True)

    def encode(self, rspec: RenderSpec, work_dir: Path) -> None:
        """Encode every chunk the work folder lacks on the cluster and list it in the folder's manifest."""
        with FrameReader(rspec.source) as reader:
            total = reader.frame_count
        plan = plan_chunks(total, rspec.chunk_frames)
        work_dir.mkdir(parents=True, exist_ok=True)
        manifest = load_manifest(work_dir)
        done = reusable_chunks(work_dir, manifest, plan) if manifest is not None else set()
        todo = deque(i for i in range(len(plan)) if i not in done)
        if not todo:
            return
        self._start()
        if self.kit is not None:
            self.kit = with_analysis(self.ray, self.kit, self.folder)
        log.info("cluster: %d chunks of %s on %d workers", len(todo), rspec.output, len(self.actors))
        frames_done = sum(b - a for i, (a, b) in enumerate(plan) if i not in todo)

        def adopted(index: int, result: dict[str, Any]) -> None:
            nonlocal frames_done, manifest
            manifest = _adopt(work_dir, manifest, rspec, plan, result)
            result.pop("data", None)  # written: the listeners get the report, not the bytes
            result["adopted"] = time.time()
            record = result["record"]
            frames_done += record["stop"] - record["start"]
            if self.progress is not None:
                self.progress("render", frames_done, plan[-1][1])
            if self.on_chunk is not None:
                self.on_chunk(result)

        self._schedule(
            todo,
            lambda actor, i: actor.render_chunk.remote(self.spec_json, str(self.folder), i, self.kit),
            adopted,
        )

    # ------------------------------------------------------------------ actors

    def _start(self) -> list[Any]:
        """The job's actors: one per GPU (or ``workers``), started once; with the object-store transfer
        the job's source and personas are put into the store once too."""
        if self.actors:
            return self.actors
        actor_class, count = worker_actors(self.ray, self.worker, self.options)
        self.objects = self._transfer() == "objects"
        if self.objects:
            self.kit = make_kit(self.ray, self.spec, self.folder, self.store)
        home = None if self.objects else os.environ.get(HOME_ENV)  # shared: the driver's store and models
        self.actors = [actor_class.remote(home, f"worker {i + 1}") for i in range(count)]
        log.info("cluster: %d workers for %s (%s)", count, self.folder.name,
                 "through the object store" if self.objects else "shared folder")  # fmt: skip
        return self.actors

    def close(self) -> None:
        """Stop the job's actors (each deletes its copy of the job first)."""
        if self.objects and self.actors:
            with contextlib.suppress(Exception):
                self.ray.get([a.forget.remote(self.folder.name) for a in self.actors], timeout=60)
        for actor in self.actors:
            self.ray.kill(actor)
        self.actors = []

    def _transfer(self) -> str:
        if self.options.transfer != "auto":
            return self.options.transfer
        if str(self.options.address or "").startswith("ray://"):
            return "objects"  # a Ray client: the driver's files are on another machine
        here = self.ray.util.get_node_ip_address()
        nodes = {n["NodeManagerAddress"] for n in self.ray.nodes() if n.get("Alive")}
        return "shared" if nodes == {here} else "objects"

    def _schedule(self, items: deque[Any], call: Callable[[Any, Any], Any],
                  done: Callable[[Any, dict[str, Any]], None]) -> None:  # fmt: skip
        """``call(actor, item)`` for every item, an item at a time per actor as they free up; ``done(item,
        result)`` in this thread as each finishes (its ``dispatched`` time added)."""
        free, pending = list(self.actors), dict[Any, tuple[Any, Any, float]]()
        while items or pending:
            while items and free:
                actor, item = free.pop(), items.popleft()
                pending[call(actor, item)] = (actor, item, time.time())
            ready, _ = self.ray.wait(list(pending), num_returns=1, timeout=0.25)
            if self.cancel is not None and self.cancel.is_set():
                raise RenderCancelled("The job was cancelled; finished chunks are kept for a resume.")
            for ref in ready:
                actor, item, sent = pending.pop(ref)
                free.append(actor)
                result = self._result(ref)
                result["dispatched"] = sent
                done(item, result)

    def _result(self, ref: Any) -> dict[str, Any]:
        ray = self.ray
        try:
            result: dict[str, Any] = ray.get(ref)
        except ray.exceptions.RayTaskError as exc:
            cause = exc.cause
            if isinstance(cause, LayerError):
                raise cause from None  # the job's own error (a missing model, a damaged frame…)
            raise ClusterError(f"A cluster worker failed: {cause!r}") from exc
        except ray.exceptions.RayActorError as exc:
            raise ClusterError(
                f"A cluster worker died {self.options.retries + 1} times on the same chunk."
            ) from exc
        return result


def _adopt(
    work_dir: Path, manifest: RenderManifest | None, rspec: RenderSpec, plan: list[tuple[int, int]],
    result: dict[str, Any],
) -> RenderManifest:  # fmt: skip
    """Move a worker's finished chunk into the job's work folder and list it in the manifest there."""
    record = ChunkRecord(**result["record"])
    fingerprint = rspec.fingerprint(result["encoder"])
    if manifest is None or manifest.fingerprint != fingerprint:
        manifest = RenderManifest(fingerprint, plan[-1][1], rspec.chunk_frames, result["encoder"])
    if result.get("data") is not None:  # from a worker's own folder, through the object store
        write_atomic(work_dir / record.file, result["data"])
        if not chunk_is_intact(work_dir, record):
            raise ClusterError(f"Chunk {record.index} arrived damaged from {result['worker']}.")
    else:
        shutil.move(str(Path(result["work_dir"]) / record.file), str(work_dir / record.file))
        shutil.rmtree(result["work_dir"], ignore_errors=True)
    manifest.chunks[record.index] = record
    save_manifest(work_dir, manifest)
    return manifest
