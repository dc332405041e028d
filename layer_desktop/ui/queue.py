"""The render queue: jobs on the engine, followed by event streams, their results fetched when done.

Each followed job has one thread blocked on its event stream (its own client; closing the client ends
the stream) — the events reach the GUI thread as signals. Where each job's video goes is kept in
``<data>/queue.json``, so after an app restart the queue re-attaches to the engine's jobs and still
knows where to put their results.

Jobs go to the local engine or to a connected host's engine: the queue holds one link per engine
(``"local"`` and ``"host:NAME"`` for each host the Engines page connected) and each job keeps the name
of the link it was sent through — its events, result, cancel, retry and re-render use that link.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from layer_desktop.engine.client import EngineClient
from layer_desktop.engine.pipeline import TransformSpec
from layer_desktop.engine.server.schemas import TERMINAL, JobEvent, JobInfo
from layer_desktop.engine.talking.spec import TalkSpec
from layer_desktop.errors import EngineUnavailableError, JobFailedError
from layer_desktop.paths import app_paths
from layer_desktop.settings import write_atomic
from layer_desktop.ui.engine_link import EngineLink, RemoteEngineLink

log = logging.getLogger(__name__)

Link = EngineLink | RemoteEngineLink
LOCAL = "local"


def host_engine(name: str) -> str:
    """The engine choice of a connected host (what ``submit(engine=…)`` takes)."""
    return f"host:{name}"


@dataclass
class QueuedJob:
    info: JobInfo
    target: Path | None = None
    spec: TransformSpec | None = None
    fps: float = 0.0
    eta_s: float | None = None
    log: list[str] = field(default_factory=list)
    downloaded: bool = False
    last_event: int = 0  # the newest event seen: a re-render is followed from here
    engine: str = "local"  # where it runs, as shown: "local" or "remote: HOST"
    via: str = LOCAL  # the queue's link it was sent through: "local" or "host:NAME"
    workers: dict[str, int] = field(default_factory=dict)  # a cluster job: frames made by each worker


class _Follower(threading.Thread):
    def __init__(self, queue: RenderQueue, link: Link, job_id: str, after: int) -> None:
        super().__init__(name=f"layer-follow-{job_id}", daemon=True)
        self.queue, self.job_id, self.after = queue, job_id, after
        self.client = link.new_client()
        self.stopping = False

    def run(self) -> None:
        try:
            for event in self.client.events(self.job_id, self.after):
                self.queue.event_received.emit(self.job_id, event)
            info = self.client.job(self.job_id)
            target = self.queue.target_of(self.job_id)
            if info.state == "done" and target is not None:
                self.client.download(self.job_id, target)
                self.queue.fetched.emit(self.job_id, str(target))
        except Exception as exc:  # the stream's end while stopping, or an engine error for the GUI
            if not self.stopping:
                self.queue.follow_failed.emit(self.job_id, exc)
        finally:
            self.client.close()

    def stop(self) -> None:
        self.stopping = True
        self.client.close()
        self.join(10)


class RenderQueue(QObject):
    changed = Signal(str)  # job id whose row changed
    submitted = Signal(str, str)  # (job id, local target path) once the engine took a new job
    event_received = Signal(str, object)  # (job id, JobEvent) from a follower thread
    downloaded = Signal(str, str)  # (job id, path), on the GUI thread once the job says it is downloaded
    fetched = Signal(str, str)  # (job id, path) from a follower thread; becomes ``downloaded``
    follow_failed = Signal(str, object)
    failed = Signal(object)  # a submit/cancel that the engine refused
    job_failed = Signal(
        str, object
    )  # (job id, JobFailedError) when a job (or its re-render) failed on the engine

    links_changed = Signal()  # a host's engine was added or removed

    def __init__(self, link: Link, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.link = link  # the local engine's (or the only one's)
        self.links: dict[str, Link] = {LOCAL: link}
        self.jobs: dict[str, QueuedJob] = {}
        self._followers: dict[str, _Follower] = {}
        self._targets = _load_targets()
        self.event_received.connect(self._on_event)
        # one queued call from the follower thread, then ``downloaded`` to every listener in the same
        # call: a check between two queued slots saw the job downloaded before the window had applied
        # the re-render (test_studio_e2e, once)
        self.fetched.connect(self._on_fetched)
        self.follow_failed.connect(lambda job_id, exc: self.failed.emit(exc))

    # ------------------------------------------------------------------ engines
    def add_link(self, name: str, link: Link) -> None:
        """Let jobs go to host ``name``'s engine (``engine="host:NAME"``); the queue owns the link now.
        Its jobs still followed before a disconnect are followed again from their last event."""
        key = host_engine(name)
        old = self.links.get(key)
        if old is link:
            return
        if old is not None:
            old.stop()
        self.links[key] = link
        for job_id, job in self.jobs.items():
            if job.via == key and job.info.state not in TERMINAL and job_id not in self._followers:
                self._follow(job_id, job.last_event)
        self.links_changed.emit()

    def remove_link(self, name: str) -> None:
        """Host ``name`` disconnected: stop following its jobs (they keep running on the host)."""
        key = host_engine(name)
        link = self.links.pop(key, None)
        if link is None:
            return
        for job_id in [j for j, job in self.jobs.items() if job.via == key]:
            follower = self._followers.pop(job_id, None)
            if follower is not None:
                follower.stop()
        link.stop()
        self.links_changed.emit()

    def hosts(self) -> list[str]:
        """The connected hosts a job can go to."""
        return [key.removeprefix("host:") for key in self.links if key != LOCAL]

    def _link(self, engine: str) -> Link:
        link = self.links.get(engine)
        if link is None:
            name = engine.removeprefix("host:")
            raise EngineUnavailableError(
                f"The engine {name!r} is not connected.",
                hint="Connect the host on the Engines page, or render on the local engine.",
            )
        return link

    # ------------------------------------------------------------------ actions
    def submit(self, spec: TransformSpec, engine: str = LOCAL) -> None:
        """Send ``spec`` to ``engine`` ("local" or "host:NAME"; source linked or uploaded, persona
        synced) and follow it."""
        self._send(engine, lambda client: client.submit_transform(spec), Path(spec.output), spec)

    def submit_talk(self, spec: TalkSpec, engine: str = LOCAL) -> None:
        """Send a talking head to the engine (photo uploaded, persona synced) and follow it."""
        from layer_desktop.engine.talking.remote import submit_talk

        self._send(engine, lambda client: submit_talk(client, spec), Path(spec.output), None)

    def _send(
        self, engine: str, call: Callable[[EngineClient], JobInfo], target: Path, spec: TransformSpec | None
    ) -> None:
        try:
            link = self._link(engine)
        except EngineUnavailableError as exc:
            self.failed.emit(exc)
            return
        link.tasks.run(
            lambda: call(link.client()),
            lambda info: self._add(info, target, spec, engine),
            self.failed.emit,
            heavy=False,
        )

    def link_of(self, job_id: str) -> Link:
        """The link a job went through (the local one for a job this queue does not know); raises
        ``EngineUnavailableError`` when its host is no longer connected."""
        job = self.jobs.get(job_id)
        return self._link(job.via if job is not None else LOCAL)

    def _job_link(self, job_id: str) -> Link | None:
        """The link a job was sent through; None (and ``failed`` emitted) when its host is gone."""
        job = self.jobs.get(job_id)
        try:
            return self._link(job.via if job is not None else LOCAL)
        except EngineUnavailableError as exc:
            self.failed.emit(exc)
            return None

    def rerender(self, job_id: str, first: int, last: int, changes: dict[str, str]) -> None:
        """Re-render frames ``first`` .. ``last`` of a finished job with ``changes``; the job is followed
        again and its result fetched anew (only the chunks holding the range are encoded again)."""

        def done(info: JobInfo) -> None:
            job = self.jobs.get(info.job_id)
            if job is None:
                self._add(info, None, None)
                return
            job.info, job.downloaded = info, False
            job.log.append(f"re-render of frames {first}–{last} queued")
            self.changed.emit(info.job_id)
            self._follow(info.job_id, job.last_event)

        link = self._job_link(job_id)
        if link is None:
            return
        link.tasks.run(
            lambda: link.client().rerender(job_id, first, last, changes),
            done,
            self.failed.emit,
            heavy=False,
        )

    def reattach(self) -> None:
        """List the engine's jobs and follow those still queued or running (after an app restart)."""
        self.link.tasks.run(self.link.client().jobs, self._on_listed, self.failed.emit, heavy=False)

    def cancel(self, job_id: str) -> None:
        link = self._job_link(job_id)
        if link is None:
            return
        link.tasks.run(lambda: link.client().cancel(job_id), self._update, self.failed.emit, heavy=False)

    def retry(self, job_id: str) -> None:
        job = self.jobs[job_id]
        if job.spec is not None:
            self.submit(job.spec, job.via)

    def target_of(self, job_id: str) -> Path | None:
        job = self.jobs.get(job_id)
        return job.target if job is not None else None

    def stop(self) -> None:
        """Stop following (the jobs keep running) and close the hosts' links."""
        for follower in list(self._followers.values()):
            follower.stop()
        self._followers.clear()
        for key in [k for k in self.links if k != LOCAL]:
            self.links.pop(key).stop()

    # ------------------------------------------------------------------ state
    def _add(self, info: JobInfo, target: Path | None, spec: TransformSpec | None, via: str = LOCAL) -> None:
        label = self.links[via].label if via in self.links else via
        self.jobs[info.job_id] = QueuedJob(info, target, spec, engine=label, via=via)
        self.jobs[info.job_id].log.append(f"runs on the {label} engine")
        if target is not None:
            self._targets[info.job_id] = str(target)
            _save_targets(self._targets)
            self.submitted.emit(info.job_id, str(target))
        self.changed.emit(info.job_id)
        self._follow(info.job_id, 0)

    def _on_listed(self, infos: list[JobInfo]) -> None:
        for info in infos:
            if info.job_id in self.jobs:
                continue
            target = self._targets.get(info.job_id)
            path = Path(target) if target else None
            # a finished job fetched in an earlier session: its video is already where it belongs
            fetched = info.state == "done" and path is not None and path.is_file()
            self.jobs[info.job_id] = QueuedJob(info, path, downloaded=fetched, engine=self.link.label)
            self.changed.emit(info.job_id)
            if info.state not in TERMINAL:
                self._follow(info.job_id, 0)

    def _follow(self, job_id: str, after: int) -> None:
        old = self._followers.pop(job_id, None)
        if old is not None:
            old.stop()
        job = self.jobs.get(job_id)
        link = self.links.get(job.via if job is not None else LOCAL)
        if link is None:  # its host disconnected: followed again when it connects
            return
        follower = _Follower(self, link, job_id, after)
        self._followers[job_id] = follower
        follower.start()

    def _update(self, info: JobInfo) -> None:
        job = self.jobs.get(info.job_id)
        if job is not None:
            job.info = info
            self.changed.emit(info.job_id)

    def _on_event(self, job_id: str, event: JobEvent) -> None:
        job = self.jobs.get(job_id)
        if job is None:
            return
        data, info = event.data, job.info
        job.last_event = max(job.last_event, event.id)
        if event.type == "state":
            update = {key: data.get(key) for key in ("error", "hint", "report")}
            job.info = info.model_copy(update={"state": data["state"], **update})
            job.log.append(f"{data['state']}" + (f": {data['error']}" if data.get("error") else ""))
            if data["state"] == "failed":
                self.job_failed.emit(job_id, JobFailedError(str(data.get("error") or "The job failed."),
                                                            hint=data.get("hint") or None))  # fmt: skip
        elif event.type == "progress":
            job.info = info.model_copy(
                update={"stage": data["stage"], "done": data["done"], "total": data["total"]}
            )
            job.fps, job.eta_s = float(data.get("fps") or 0.0), data.get("eta_s")
        elif event.type == "log":
            job.log.append(f"{data['level']}: {data['message']}")
        elif event.type == "chunk":  # a cluster worker finished one
            who = f"{data['worker']} on {data['node']}"
            job.workers[who] = job.workers.get(who, 0) + int(data["frames"])
            job.log.append(
                f"chunk {data['index'] + 1}: {data['frames']} frames by {who} in {data['seconds']:.1f} s"
            )
        self.changed.emit(job_id)

    def _on_fetched(self, job_id: str, path: str) -> None:
        self.jobs[job_id].downloaded = True
        self.jobs[job_id].log.append(f"saved to {path}")
        self.downloaded.emit(job_id, path)
        self.changed.emit(job_id)


def _queue_file() -> Path:
    return app_paths().data_dir / "queue.json"


def _load_targets() -> dict[str, str]:
    try:
        data = json.loads(_queue_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.get("targets", {}).items()} if isinstance(data, dict) else {}


def _save_targets(targets: dict[str, str]) -> None:
    path = _queue_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, json.dumps({"schema_version": 1, "targets": targets}, indent=1).encode())
