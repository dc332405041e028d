"""The engine's job queue: one worker thread runs jobs one at a time (the GPU is the shared resource).

Every state change, throttled progress, each finished chunk's review records and the job's log lines
become events in the job store. After a restart, jobs that were queued or running are queued again and
resume from their last finished chunk (the job folders keep face analysis and chunks).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from dataclasses import asdict
from pathlib import Path
from typing import Any, Literal

from layer_desktop.engine.media.pipeline import RenderCancelled
from layer_desktop.engine.models import ModelStore
from layer_desktop.engine.personas import PersonaStore
from layer_desktop.engine.pipeline.job import (
    Progress,
    RecordsDone,
    TransformReport,
    check_splittable,
    rerender_job,
    run_transform,
)
from layer_desktop.engine.pipeline.records import FrameRecord
from layer_desktop.engine.pipeline.spec import TransformSpec
from layer_desktop.engine.server.home import EngineHome
from layer_desktop.engine.server.jobstore import JobStore
from layer_desktop.engine.server.media import MediaLibrary
from layer_desktop.engine.server.schemas import (
    JobInfo,
    JobRequest,
    RerenderRequest,
    TalkRequest,
    parse_media_ref,
)
from layer_desktop.engine.server.scrub import public_report, scrub
from layer_desktop.engine.server.talk_jobs import resolve_talk, run_talk_job
from layer_desktop.engine.talking.render import TalkReport
from layer_desktop.errors import EngineRequestError, LayerError

log = logging.getLogger(__name__)

PROGRESS_EVERY_S = 0.25
OUTPUT_NAME = "output.mp4"


class JobRunner:
    def __init__(
        self,
        home: EngineHome,
        store: JobStore,
        media: MediaLibrary,
        personas: PersonaStore,
        models: ModelStore | None = None,
        cluster: str | None = None,
    ) -> None:
        self.home, self.store, self.media, self.personas, self.models = home, store, media, personas, models
        self.cluster = cluster  # a Ray cluster's address: its workers encode the transforms' chunks
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._cancels: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        for job in self.store.unfinished():
            if job.state == "running":
                self.store.event(
                    job.job_id, "log", {"level": "INFO", "message": "resumed after an engine restart"}
                )
                self.store.set_state(job.job_id, "queued")
            self._enqueue(job.job_id)
        self._thread = threading.Thread(target=self._work, name="engine-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Cancel the running job (its finished chunks are kept) and stop the worker."""
        with self._lock:
            for event in self._cancels.values():
                event.set()
        self._queue.put(None)
        if self._thread is not None:
            self._thread.join(timeout)

    # ------------------------------------------------------------------ requests

    def submit(self, req: JobRequest) -> JobInfo:
        """Queue a transform. Raises ``EngineRequestError`` for media the engine does not have and
        ``PersonaNotFoundError`` for an unknown persona, before anything is queued."""
        self._resolve(req.spec)
        self.personas.get(req.spec.persona)
        for seg in req.spec.segments:
            if seg.persona:
                self.personas.get(seg.persona)
        return self._create("transform", {"spec": req.spec.model_dump(mode="json")}, req.spec.output)

    def submit_talk(self, req: TalkRequest) -> JobInfo:
        """Queue a talking head. Raises ``EngineRequestError`` for media the engine does not have and
        ``PersonaNotFoundError`` for an unknown persona, before anything is queued."""
        resolve_talk(req.spec, self.media)
        if req.spec.persona is not None:
            self.personas.get(req.spec.persona)
        return self._create("talk", {"talk": req.spec.model_dump(mode="json")}, req.spec.output)

    def _create(self, kind: Literal["transform", "talk"], request: dict[str, Any], output: str) -> JobInfo:
        job_id = uuid.uuid4().hex[:12]
        info = self.store.create_job(job_id, kind, request, Path(output).name or OUTPUT_NAME)
        self._enqueue(job_id)
        log.info("%s job %s queued", kind, job_id)
        return info

    def rerender(self, job_id: str, req: RerenderRequest) -> JobInfo:
        info = self.job(job_id)
        if info.kind == "talk":
            raise EngineRequestError(
                f"Job {job_id} is a talking head: it has no frame ranges to re-render.",
                status=409,
                hint="Submit the talking head again with other settings.",
            )
        if (
            info.state not in ("done", "failed", "cancelled")
            or not (self._folder(job_id) / OUTPUT_NAME).exists()
        ):
            raise EngineRequestError(
                f"Job {job_id} has no finished render to re-render a range of.",
                status=409,
                hint="Wait for the job to finish.",
            )
        if req.last < req.first:
            raise EngineRequestError(f"The range {req.first}..{req.last} is empty.", status=400)
        request = {**self.store.request(job_id), "rerender": req.model_dump(mode="json")}
        info = self.store.requeue(job_id, "rerender", request)
        self._enqueue(job_id)
        return info

    def cancel(self, job_id: str) -> JobInfo:
        info = self.job(job_id)
        if info.state == "queued":
            return self.store.set_state(job_id, "cancelled")
        with self._lock:
            event = self._cancels.get(job_id)
        if event is not None:
            event.set()
        return self.job(job_id)

    def job(self, job_id: str) -> JobInfo:
        try:
            return self.store.job(job_id)
        except KeyError:
            raise EngineRequestError(f"There is no job {job_id[:40]!r} on this engine.", status=404) from None

    def result(self, job_id: str) -> Path:
        self.job(job_id)
        path = self._folder(job_id) / OUTPUT_NAME
        if not path.is_file():
            raise EngineRequestError(
                f"Job {job_id} has no output yet.", status=409, hint="Wait for the job's 'done' event."
            )
        return path

    def records(self, job_id: str) -> list[dict[str, Any]]:
        from layer_desktop.engine.pipeline.records import load_records

        self.job(job_id)
        return [r.to_dict() for r in load_records(self._folder(job_id) / "records")]

    # ------------------------------------------------------------------ worker

    def _enqueue(self, job_id: str) -> None:
        with self._lock:
            self._cancels[job_id] = threading.Event()
        self._queue.put(job_id)

    def _folder(self, job_id: str) -> Path:
        return self.home.jobs_dir / job_id

    def _resolve(self, spec: TransformSpec) -> TransformSpec:
        """The spec with media references turned into the engine's own paths and its own output."""
        sha = parse_media_ref(spec.source)
        if sha is None:
            raise EngineRequestError(
                "The spec's source must be media:<sha256> (upload or link it first).", status=400
            )
        update: dict[str, Any] = {"source": str(self.media.path(sha))}
        if spec.audio not in ("source", "none"):
            audio = parse_media_ref(spec.audio)
            if audio is None:
                raise EngineRequestError(
                    "The spec's audio must be source, none or media:<sha256>.", status=400
                )
            update["audio"] = str(self.media.path(audio))
        return spec.model_copy(update=update)

    def _work(self) -> None:
        while True:
            job_id = self._queue.get()
            if job_id is None:
                return
            try:
                if self.store.job(job_id).state == "queued":
                    self._run(job_id)
            except Exception:  # the worker must survive anything one job does
                log.exception("job %s crashed the worker step", job_id)

    def _run(self, job_id: str) -> None:
        with self._lock:
            cancel = self._cancels.setdefault(job_id, threading.Event())
        request = self.store.request(job_id)
        self.store.set_state(job_id, "running")
        handler = _JobLogHandler(self.store, job_id, threading.get_ident())
        logging.getLogger("layer_desktop").addHandler(handler)
        try:
            report = self._execute(job_id, request, cancel)
        except RenderCancelled:
            self.store.set_state(job_id, "cancelled")
        except LayerError as exc:
            log.warning("job %s failed: %s", job_id, exc)
            self.store.set_state(
                job_id, "failed", error=scrub(exc.message), hint=scrub(exc.hint), type=type(exc).__name__
            )
        except Exception as exc:
            log.exception("job %s failed", job_id)
            self.store.set_state(
                job_id,
                "failed",
                error=scrub(f"Internal error: {exc!r}"),
                hint="Send the engine log to support.",
                type="EngineError",
            )
        else:
            self.store.set_state(job_id, "done", report=public_report(asdict(report)))
        finally:
            logging.getLogger("layer_desktop").removeHandler(handler)
            with self._lock:
                self._cancels.pop(job_id, None)

    def _execute(
        self, job_id: str, request: dict[str, Any], cancel: threading.Event
    ) -> TransformReport | TalkReport:
        folder = self._folder(job_id)
        progress = _Progress(self.store, job_id)
        if "talk" in request:
            folder.mkdir(parents=True, exist_ok=True)
            output = folder / OUTPUT_NAME
            return run_talk_job(request, self.media, self.personas, folder, output, progress, cancel)
        spec = self._resolve(TransformSpec.model_validate(request["spec"]))
        spec = spec.model_copy(update={"output": str(folder / OUTPUT_NAME)})

        def records(rows: list[FrameRecord]) -> None:
            self.store.event(job_id, "records", {"records": [r.to_dict() for r in rows]})

        rerender = request.get("rerender")
        if rerender is None and self.cluster is not None and splittable(spec):
            return self._on_cluster(job_id, spec, folder, progress, cancel, records)
        if rerender is None:
            return run_transform(
                spec,
                store=self.personas,
                models=self.models,
                progress=progress,
                cancel=cancel,
                folder=folder,
                on_records=records,
            )
        req = RerenderRequest.model_validate(rerender)
        return rerender_job(
            folder,
            req.first,
            req.last,
            req.changes or None,
            store=self.personas,
            models=self.models,
            progress=progress,
            cancel=cancel,
            on_records=records,
        )

    def _on_cluster(
        self, job_id: str, spec: TransformSpec, folder: Path, progress: Progress, cancel: threading.Event,
        records: RecordsDone,
    ) -> TransformReport:  # fmt: skip
        """The job's chunks encoded by the cluster's workers; a ``chunk`` event per finished chunk says
        which worker on which node made it and how long it took (the studio shows each worker's share)."""
        # Ray is loaded only by an engine that drives a cluster (the import contract ignores this edge)
        from layer_desktop.engine.cluster.runner import ClusterOptions, run_transform_on_cluster

        def chunk(result: dict[str, Any]) -> None:
            record = result["record"]
            self.store.event(job_id, "chunk", {
                "index": record["index"], "frames": record["stop"] - record["start"],
                "worker": result["worker"], "node": result["node"], "node_id": result["node_id"],
                "pid": result["pid"], "transfer": result["transfer"],
                "seconds": round(result["finished"] - result["started"], 3),
            })  # fmt: skip

        return run_transform_on_cluster(
            spec, ClusterOptions(address=self.cluster), store=self.personas, models=self.models,
            folder=folder, progress=progress, cancel=cancel, on_chunk=chunk, on_records=records,
        )  # fmt: skip


def splittable(spec: TransformSpec) -> bool:
    try:
        check_splittable(spec)
    except LayerError:
        log.info("a voice or lip-sync job runs on the head engine alone")
        return False
    return True


class _Progress:
    """Progress events at most every ``PROGRESS_EVERY_S`` (and always the last one of a stage)."""

    def __init__(self, store: JobStore, job_id: str) -> None:
        self.store, self.job_id = store, job_id
        self._last = 0.0
        self._stage_start: dict[str, tuple[float, int]] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        t0, d0 = self._stage_start.setdefault(stage, (now, done))
        if done < total and now - self._last < PROGRESS_EVERY_S:
            return
        self._last = now
        fps = (done - d0) / (now - t0) if now > t0 and done > d0 else 0.0
        eta = (total - done) / fps if fps > 0 else None
        self.store.progress(self.job_id, stage, done, total, {"fps": round(fps, 2), "eta_s": eta})


class _JobLogHandler(logging.Handler):
    """The job's own log lines (from its worker thread) as ``log`` events."""

    def __init__(self, store: JobStore, job_id: str, thread: int) -> None:
        super().__init__(logging.INFO)
        self.store, self.job_id, self.thread = store, job_id, thread

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread != self.thread:
            return
        try:
            self.store.event(self.job_id, "log", {"level": record.levelname, "message": record.getMessage()})
        except Exception:  # logging must never break the job
            self.handleError(record)
