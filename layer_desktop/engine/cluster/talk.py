"""A talking-head catalogue batch rendered on a Ray cluster: an ``Executor`` for ``run_batch`` whose Ray
actors (one per GPU, or ``workers``) each render one product at a time with ``render_talk``, several
products at once. The driver keeps everything else: it decides what needs a render, signs each video with
this machine's C2PA identity when it comes back (the signing key, like the publishing credentials, stays
in this machine's keyring: workers never get either), publishes it and saves the batch state.

    run_batch(products, options, publisher=…, executor=talk_on_cluster(ClusterOptions(address=…)))

A worker that dies is restarted and its product rendered again from the start (``retries`` times); a
product's own failure (no face, a bad script…) comes back as that product's failed row. Cancelling stops
every worker; the products finished so far are kept, and running the batch again resumes.

Limits: the batch's output folder must be on storage every worker can read and write (one machine, or a
shared mount at the same path), and so must the product photos and the driver's Layer home (its persona
store and models: the workers are given its path); ElevenLabs speech needs the key on each worker.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from layer_desktop.engine.cluster.errors import ClusterError
from layer_desktop.engine.cluster.runner import ClusterOptions, connect, worker_actors
from layer_desktop.engine.faces.analyzer import FaceAnalyzer
from layer_desktop.engine.media.pipeline import RenderCancelled
from layer_desktop.engine.personas import Persona, PersonaStore
from layer_desktop.engine.provenance.manifest import ProvenanceFacts
from layer_desktop.engine.talking.batch_render import Executor, Rendered, RenderJob, failure
from layer_desktop.engine.talking.provenance import sign_facts, talk_facts
from layer_desktop.engine.talking.render import render_talk
from layer_desktop.engine.talking.spec import TalkSpec
from layer_desktop.engine.talking.speech import TalkSpeech
from layer_desktop.errors import LayerError
from layer_desktop.paths import HOME_ENV

log = logging.getLogger(__name__)

RenderDone = Callable[[dict[str, Any]], None]  # a worker's report of one product (pid, started, finished…)


class TalkWorker:
    """Renders talking heads; made a Ray actor by ``talk_on_cluster``. The persona store and the face
    models are loaded once per actor and reused for every product it is given."""

    def __init__(self, layer_home: str | None = None) -> None:
        if layer_home:
            os.environ[HOME_ENV] = layer_home  # the driver's persona store and model folder
        self._store = PersonaStore()
        self._analyzer = FaceAnalyzer.default()  # one product at a time per actor: never shared

    def render(self, product: str, spec_json: str) -> dict[str, Any]:
        """Write the spec's output, unsigned; returns the C2PA facts for the driver to sign with, or the
        product's error and hint, and when and where it ran."""
        started = time.time()
        spec = TalkSpec.model_validate_json(spec_json)
        facts: list[str] = []

        def keep(
            spec: TalkSpec, job: str, persona: Persona | None, speech: TalkSpeech, mark: int | None
        ) -> None:
            facts.append(talk_facts(spec, job, persona, speech, mark).model_dump_json())

        report: dict[str, Any] = {"pid": os.getpid(), "started": started}
        try:
            render_talk(spec, store=self._store, sign=keep, analyzer=self._analyzer)
        except (LayerError, OSError, ValueError) as exc:
            report["error"], report["hint"] = failure(product, exc)
        return {**report, "facts": facts[0] if facts else None, "finished": time.time()}


def talk_on_cluster(
    options: ClusterOptions | None = None,
    *,
    cancel: threading.Event | None = None,
    on_render: RenderDone | None = None,
    worker: type[TalkWorker] = TalkWorker,
) -> Executor:
    """An executor rendering on the cluster at ``options.address`` (connected now: raises
    ``ClusterError`` when there is none, or Ray is not installed). Using it raises ``RenderCancelled``
    when ``cancel`` is set (every worker is stopped)."""
    options = options or ClusterOptions()
    ray = connect(options.address)
    return _TalkRun(ray, options, cancel, on_render, worker).run


class _TalkRun:
    def __init__(
        self, ray: Any, options: ClusterOptions, cancel: threading.Event | None,
        on_render: RenderDone | None, worker: type[TalkWorker],
    ) -> None:  # fmt: skip
        self.ray, self.options, self.cancel, self.on_render = ray, options, cancel, on_render
        self.worker = worker
        self.actors: list[Any] = []
        self.free: list[Any] = []
        self.pending: dict[Any, tuple[Any, RenderJob]] = {}  # a render under way → its actor and job

    def run(self, jobs: Iterable[RenderJob]) -> Iterator[Rendered]:
        """Send jobs while a worker is free (a worker is started when the next job needs one, up to the
        count), and yield each product as it comes back, signed."""
        source = iter(jobs)
        self.actors, self.free, self.pending = [], [], {}
        actor_class, count = worker_actors(self.ray, self.worker, self.options)
        more = True
        try:
            while True:
                more = more and self._send(source, actor_class, count)
                if not self.pending:
                    return
                ready, _ = self.ray.wait(list(self.pending), num_returns=1, timeout=0.25)
                self._check_cancel()
                for ref in ready:
                    actor, job = self.pending.pop(ref)
                    done, alive = self._result(ref, job)
                    if alive:
                        self.free.append(actor)
                    else:
                        self.actors.remove(actor)  # its restarts are spent; a fresh one may take its place
                    more = more and self._send(source, actor_class, count)  # keep the workers busy
                    yield done
        finally:
            for actor in self.actors:
                self.ray.kill(actor)
            self.actors, self.free, self.pending = [], [], {}

    def _check_cancel(self) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise RenderCancelled(
                "The batch was cancelled; finished products are kept and running it again resumes."
            )

    def _send(self, source: Iterator[RenderJob], actor_class: Any, count: int) -> bool:
        """Send jobs to free (or new) workers; False once the jobs are all sent."""
        while self.free or len(self.actors) < count:
            # the driver decides the next product here (and settles those that need no render)
            job = next(source, None)
            if job is None:
                return False
            if not self.free:
                self.actors.append(actor := actor_class.remote(os.environ.get(HOME_ENV)))
                self.free.append(actor)
            actor = self.free.pop()
            spec = job.spec.model_copy(update={"output": str(Path(job.spec.output).resolve())})
            self.pending[actor.render.remote(job.product, spec.model_dump_json())] = (actor, job)
        return True

    def _result(self, ref: Any, job: RenderJob) -> tuple[Rendered, bool]:
        """The product's outcome, and whether its worker is still alive."""
        ray = self.ray
        try:
            report: dict[str, Any] = ray.get(ref)
        except ray.exceptions.RayActorError as exc:
            times = self.options.retries + 1
            log.warning("product %s: its cluster worker died %d times", job.product, times, exc_info=exc)
            error = f"The cluster worker rendering it died {times} times (see the log)."
            return Rendered(job.index, error, ClusterError.default_hint), False
        except ray.exceptions.RayTaskError as exc:  # a bug of ours in the worker, not the product's fault
            log.error("product %s: the cluster worker failed", job.product, exc_info=exc)
            return Rendered(
                job.index, f"A cluster worker failed: {exc.cause!r}", ClusterError.default_hint
            ), True
        report["product"] = job.product
        if self.on_render is not None:
            self.on_render(report)
        if report.get("error"):
            return Rendered(job.index, report["error"], report["hint"], worker=report), True
        log.info("product %s rendered by worker %s in %.1f s", job.product, report["pid"],
                 report["finished"] - report["started"])  # fmt: skip
        try:
            if report["facts"] is not None:  # signed here: the signing key stays on this machine
                sign_facts(Path(job.spec.output), ProvenanceFacts.model_validate_json(report["facts"]))
        except LayerError as exc:
            return Rendered(job.index, *failure(job.product, exc), worker=report), True
        return Rendered(job.index, worker=report), True
